"""tariff_fit: forecast each customer's next year, bill it under every eligible tariff, and
rank the offers with a calibrated acceptance model; tracked, registered and gated in MLflow.

One run does two checks on the same data:

- **Savings** (`check_savings`): at a cut-off with a known future (12 months before the
  data ends, or fewer months when the data is shorter), the P50 forecast saving of every
  eligible switch against the true saving, i.e. the bills of the actual next months under
  both tariffs. The volume band is estimated here too, cross-fitted: each half of the
  customers gets the band measured on the other half, so its coverage is out of sample.
- **Acceptance** (`training.tariff_acceptance`): past offers split by time, LightGBM
  against the rule "saving above the advice threshold" and a logistic regression, with
  the generator's true acceptance probability as the oracle.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from powerhall.errors import PowerhallError
from powerhall.settings import Settings
from powerhall.tariffs import TariffCatalogue, load_catalogue
from training import tracking
from training.classifier import logistic_baseline
from training.datasets import data_bounds
from training.evaluate import classification_metrics, save_plots
from training.model import CalibrationMethod, ClassifierPyfunc
from training.registry import TrainingRun, register_and_gate
from training.tariff_acceptance import AcceptanceModel
from training.tariff_data import (
    customers_at,
    month_start,
    offer_examples,
    readings_before,
    true_bills,
)
from training.tariff_forecast import MIN_HISTORY_DAYS, add_months, history
from training.tariff_options import Band, bill_forecasts, candidates, savings

NAME: Final = "tariff_fit"
HORIZON_MONTHS: Final = 12
MIN_CHECK_MONTHS: Final = 3
TEST_SHARE: Final = 0.25
CALIBRATION_SHARE: Final = 0.2
MODEL_ARTIFACT: Final = "model"


def check_window(start: date, end: date) -> tuple[date, int]:
    """Cut-off and months of the savings check for readings from `start` to `end`.

    The latest cut-off with twelve known months after it, if it leaves 270 days of
    history before it; otherwise the earliest cut-off with that history, and the whole
    months left after it.
    """
    stop = month_start(end + timedelta(days=1))  # first month without a full month of data
    earliest = month_start(start + timedelta(days=MIN_HISTORY_DAYS - 1))
    if earliest < start + timedelta(days=MIN_HISTORY_DAYS):
        earliest = add_months(earliest, 1)
    latest = add_months(stop, -HORIZON_MONTHS)
    if latest >= earliest:
        return latest, HORIZON_MONTHS
    months = (stop.year - earliest.year) * 12 + stop.month - earliest.month
    if months < MIN_CHECK_MONTHS:
        raise PowerhallError(
            f"readings from {start} to {end} are too short to check tariff savings: "
            f"{MIN_HISTORY_DAYS} days of history and {MIN_CHECK_MONTHS} whole months after "
            "them are needed"
        )
    return earliest, months


@dataclass(frozen=True)
class SavingCheck:
    cutoff: date
    months: int
    band: Band
    truth_source: str
    metrics: dict[str, float]
    pairs: pd.DataFrame = field(repr=False)
    """Per (customer, candidate): predicted band and true saving."""


def check_savings(
    settings: Settings, catalogue: TariffCatalogue, *, min_saving_cny: float
) -> SavingCheck:
    """Predicted against true savings at the check's cut-off; the volume band (see module)."""
    cutoff, months = check_window(*data_bounds(settings.lake_dir))
    customers = customers_at(settings, cutoff, in_force_from_bills=True)
    hist = history(readings_before(settings, cutoff), customers["customer_id"], cutoff)
    enough = hist.missing_data()[
        pd.Series(np.arange(len(hist.customer_ids)), index=hist.customer_ids)
        .reindex(customers["customer_id"])
        .to_numpy()
    ]
    customers = customers[enough == ""].reset_index(drop=True)
    pairs = candidates(customers, catalogue)
    actual, source = true_bills(settings, customers, catalogue, pairs, cutoff, months)
    p50 = bill_forecasts(
        hist, customers, catalogue, {"p50": np.ones(len(customers))}, months=months, pairs=pairs
    )
    current = customers[["customer_id", "tariff_id", "segment"]]
    ratio = _volume_ratios(p50, actual, current)
    if len(ratio) < 2:
        raise PowerhallError(f"no customer with a known next {months} months after {cutoff}")
    fold = pd.Series(np.arange(len(ratio)) % 2, index=ratio["customer_id"])
    bands = [Band.from_ratios(ratio[fold.to_numpy() == k]) for k in (0, 1)]
    customers = customers[customers["customer_id"].isin(fold.index)].reset_index(drop=True)
    own_fold = fold.reindex(customers["customer_id"]).to_numpy()
    volumes = {
        scenario: np.where(
            own_fold == 0,
            bands[1].volumes(customers["segment"])[scenario],
            bands[0].volumes(customers["segment"])[scenario],
        )
        for scenario in ("p10", "p90")
    }
    band_bills = bill_forecasts(hist, customers, catalogue, volumes, months=months, pairs=pairs)
    predicted = savings(pd.concat([p50, band_bills]), customers, catalogue)
    true_amount = actual.set_index(["customer_id", "tariff_id"])["amount_cny"]
    keys = pd.MultiIndex.from_frame(predicted[["customer_id", "tariff_id"]])
    mine = pd.MultiIndex.from_frame(predicted[["customer_id", "current"]])
    predicted["true_saving"] = (
        true_amount.reindex(mine).to_numpy() - true_amount.reindex(keys).to_numpy()
    )
    predicted = predicted.dropna(subset=["true_saving"]).reset_index(drop=True)
    metrics = saving_metrics(predicted, min_saving_cny) | {
        "kwh_error_share_median": float((ratio["ratio"] - 1).abs().median()),
        "customers": float(predicted["customer_id"].nunique()),
        "months": float(months),
    }
    return SavingCheck(cutoff, months, Band.from_ratios(ratio), source, metrics, predicted)


def _volume_ratios(
    forecast: pd.DataFrame, actual: pd.DataFrame, current: pd.DataFrame
) -> pd.DataFrame:
    """Actual kWh over forecast kWh of the checked months, per customer (current tariff)."""
    on = ["customer_id", "tariff_id"]
    kwh = current.merge(forecast[[*on, "kwh"]], on=on).merge(
        actual[[*on, "kwh"]], on=on, suffixes=("_forecast", "_actual")
    )
    kwh = kwh[kwh["kwh_forecast"] > 0]
    return kwh.assign(ratio=kwh["kwh_actual"] / kwh["kwh_forecast"])[
        ["customer_id", "segment", "ratio"]
    ]


def saving_metrics(pairs: pd.DataFrame, min_saving_cny: float) -> dict[str, float]:
    """Errors of the P50 saving against the true saving, in yuan and as a share of it.

    The share is taken where the true saving is at least the advice threshold either way:
    the error of a saving near zero as a share of it says nothing a customer would notice.
    """
    error = (pairs["saving_p50"] - pairs["true_saving"]).abs()
    material = pairs["true_saving"].abs() >= max(min_saving_cny, 1e-9)
    inside = (pairs["saving_p10"] <= pairs["true_saving"]) & (
        pairs["true_saving"] <= pairs["saving_p90"]
    )
    predicted_best = _best(pairs, "saving_p50", min_saving_cny)
    true_best = _best(pairs, "true_saving", min_saving_cny)
    return {
        "pairs": float(len(pairs)),
        "saving_abs_error_cny_median": float(error.median()),
        "saving_abs_error_cny_mean": float(error.mean()),
        "saving_true_abs_cny_median": float(pairs["true_saving"].abs().median()),
        "saving_error_share_median": float((error / pairs["true_saving"].abs())[material].median()),
        "saving_material_pairs": float(material.sum()),
        "saving_band_coverage": float(inside.mean()),
        "advice_agreement": float((predicted_best == true_best).mean()),
    }


def _best(pairs: pd.DataFrame, column: str, min_saving_cny: float) -> pd.Series:
    """Per customer: the tariff saving most by `column`, or "stay" below the threshold."""
    top = pairs.sort_values(["customer_id", column], ascending=[True, False])
    top = top.drop_duplicates("customer_id").set_index("customer_id")
    return top["tariff_id"].where(top[column] >= min_saving_cny, "stay")


@dataclass(frozen=True)
class OfferSplit:
    fit: pd.DataFrame
    calibrate: pd.DataFrame
    test: pd.DataFrame
    cutoff: date

    def window(self) -> dict[str, str]:
        return {
            f"{part}_{end}": str(getattr(self, part)["shown_at"].agg(end).date())
            for part in ("fit", "calibrate", "test")
            for end in ("min", "max")
        } | {"cutoff": self.cutoff.isoformat()}


def split_offers(examples: pd.DataFrame, cutoff: date | None = None) -> OfferSplit:
    """Test on offers shown from `cutoff` on (default: the latest quarter of offers);
    calibrate on the latest fifth before it; fit on the rest. Answers come within days,
    so no label crosses the cut-off by more than that."""
    shown = examples["shown_at"]
    if cutoff is None:
        cutoff = shown.quantile(1 - TEST_SHARE).tz_convert("UTC").date()
    moment = pd.Timestamp(cutoff, tz="UTC")
    test, before = examples[shown >= moment], examples[shown < moment]
    calibrate_from = before["shown_at"].quantile(1 - CALIBRATION_SHARE) if len(before) else moment
    calibrate = before[before["shown_at"] >= calibrate_from]
    fit = before[before["shown_at"] < calibrate_from]
    for part, rows in (("fit", fit), ("calibrate", calibrate), ("test", test)):
        if rows["label"].nunique() < 2:
            raise PowerhallError(
                f"the {part} offers before/after cut-off {cutoff} hold {len(rows)} rows and "
                "not both answers: move the cut-off or gather more offers"
            )
    return OfferSplit(fit, calibrate, test, cutoff)


@dataclass(frozen=True)
class TariffFitResult(TrainingRun):
    check: SavingCheck = field(repr=False)
    model: AcceptanceModel = field(repr=False)
    test: pd.DataFrame = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "band": self.check.band.as_dict()}


def _rule(frame: pd.DataFrame, min_saving_cny: float) -> np.ndarray:
    return (frame["saving_cny"].to_numpy() > min_saving_cny).astype(float)


def train_tariff_fit(
    settings: Settings,
    *,
    cutoff: date | None = None,
    seed: int | None = None,
    calibration: CalibrationMethod = "sigmoid",
    model_name: str | None = None,
    tracking_uri: str | None = None,
    catalogue: TariffCatalogue | None = None,
    plots: bool = True,
) -> TariffFitResult:
    """One tracked run: the savings check, the acceptance model and its baselines, plots,
    the registered version (with the band) and the promotion gate. `plots` False: metrics
    without their plots (the closed-loop simulation's nightly retraining)."""
    import mlflow
    from mlflow.models import infer_signature

    name = model_name or NAME
    seed = settings.seed if seed is None else seed
    catalogue = catalogue or load_catalogue()
    threshold = settings.tariff_min_saving_cny
    tracking.configure(tracking_uri)
    tracking.use_experiment(name)
    check = check_savings(settings, catalogue, min_saving_cny=threshold)
    split = split_offers(offer_examples(settings, catalogue), cutoff)
    model = AcceptanceModel.fit(
        split.fit,
        split.fit["label"].to_numpy(),
        split.calibrate,
        split.calibrate["label"].to_numpy(),
        band=check.band,
        seed=seed,
        method=calibration,
    )
    features = list(model.features)
    past = pd.concat([split.fit, split.calibrate])
    logistic = logistic_baseline(seed).fit(past[features], past["label"])
    test, y = split.test, split.test["label"].to_numpy()
    scores = {
        "rule": _rule(test, threshold),
        "logistic": logistic.predict_proba(test[features])[:, 1],
        "lightgbm_uncalibrated": model.raw_probability(test),
        "lightgbm": model.probability(test),
    }
    metrics = {scorer: classification_metrics(y, score) for scorer, score in scores.items()}
    if test["oracle"].notna().all():
        scores["oracle"] = test["oracle"].to_numpy()
        metrics["oracle"] = classification_metrics(y, scores["oracle"])
        metrics["lightgbm"]["auc_vs_oracle"] = metrics["lightgbm"]["auc"] / metrics["oracle"]["auc"]
    metrics["saving"] = check.metrics
    rows = {part: len(getattr(split, part)) for part in ("fit", "calibrate", "test")}
    rows |= {f"{part}_accepted": int(getattr(split, part)["label"].sum()) for part in rows}
    window = split.window() | {
        "saving_cutoff": check.cutoff.isoformat(),
        "saving_months": str(check.months),
    }

    with mlflow.start_run(run_name=f"{name}-{split.cutoff.isoformat()}") as run:
        mlflow.log_params(
            {
                "model": name,
                "seed": seed,
                "calibration": calibration,
                "rule": f"saving_cny > {threshold:g}",
                "min_saving_cny": threshold,
                "features": len(features),
                "saving_truth": check.truth_source,
                **{f"window_{key}": value for key, value in window.items()},
                **{
                    f"band_{end}_{segment or 'all'}": value
                    for end, values in check.band.as_dict().items()
                    for segment, value in values.items()
                },
            }
        )
        mlflow.log_metrics(
            {f"{scorer}_{key}": value for scorer, m in metrics.items() for key, value in m.items()}
            | {f"rows_{part}": count for part, count in rows.items()}
        )
        if plots:
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp)
                drawn = save_plots(
                    y,
                    scores,
                    importance=model.importance(),
                    contributions=model.contributions(test),
                    feature_values=test[features].to_numpy(dtype=float),
                    feature_names=features,
                    out_dir=out,
                )
                drawn.append(_saving_plot(check, out / "saving_check.png"))
                for path in drawn:
                    mlflow.log_artifact(str(path), artifact_path="plots")
        mlflow.log_dict({"features": features, "band": check.band.as_dict()}, "features.json")
        mlflow.log_dict(metrics, "metrics.json")
        example = test[features].head(5).astype("float64")
        info = mlflow.pyfunc.log_model(
            name=MODEL_ARTIFACT,
            python_model=ClassifierPyfunc(model),
            signature=infer_signature(example, pd.DataFrame({"probability": [0.5]})),
            input_example=example,
            pip_requirements=tracking.pip_requirements(),
        )
        model_version, decision = register_and_gate(
            info.model_uri,
            name,
            tags={"cutoff": split.cutoff.isoformat(), "run_id": run.info.run_id},
            features=test[features],
            labels=y,
        )
    return TariffFitResult(
        name=name,
        run_id=run.info.run_id,
        version=model_version,
        window=window,
        rows=rows,
        metrics=metrics,
        decision=decision,
        check=check,
        model=model,
        test=test,
    )


def _saving_plot(check: SavingCheck, path: Path) -> Path:
    """Predicted P50 saving (with its band) against the true saving, in yuan."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = check.pairs
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.errorbar(
        pairs["true_saving"],
        pairs["saving_p50"],
        yerr=[pairs["saving_p50"] - pairs["saving_p10"], pairs["saving_p90"] - pairs["saving_p50"]],
        fmt="o",
        markersize=2,
        alpha=0.4,
        elinewidth=0.5,
    )
    low, high = (
        pairs[["true_saving", "saving_p50"]].quantile([0.01, 0.99]).to_numpy().ravel()[[0, -1]]
    )
    ax.plot([low, high], [low, high], color="grey", linestyle=":")
    ax.set(
        xlim=(low, high),
        ylim=(low, high),
        xlabel=f"true saving, {check.months} months from {check.cutoff} (yuan)",
        ylabel="forecast saving P50 with P10-P90 (yuan)",
        title="Tariff savings check",
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
