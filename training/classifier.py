"""Train, evaluate, log, register and gate one binary risk model (churn, complaint).

Every run fits three scorers on the same past and scores them on the same later window:
the utility's rule, a logistic regression on standardised features, and the calibrated
LightGBM that gets registered; the generator's truth gives the oracle's score on the same
rows, the ceiling any model can reach from what was known at the snapshot.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from powerhall.errors import ContractError
from powerhall.settings import Settings
from training import tracking
from training.datasets import LABEL, ORACLE, Examples, Split, Task, build_examples, temporal_split
from training.evaluate import classification_metrics, save_plots
from training.model import (
    CalibrationMethod,
    ClassifierPyfunc,
    RiskModel,
    derive_columns,
    lightgbm_params,
)
from training.registry import TrainingRun, register_and_gate

MODEL_ARTIFACT = "model"


@dataclass(frozen=True)
class RiskSpec:
    task: Task
    rule: Callable[[pd.DataFrame], np.ndarray]
    rule_description: str
    drivers: Mapping[str, int] | None = None
    """The profile features the models learn from, each with the direction of its effect
    (+1 raises the risk, -1 lowers it, 0 either way); None: every feature, unconstrained.
    Naming the behavioural drivers keeps identity-like columns (load shape, capacity) out:
    with few positive customers the trees would otherwise learn who they are."""
    derived: Mapping[str, str] = field(default_factory=dict)
    """New features computed from profile columns, name -> `DataFrame.eval` expression
    (e.g. a ratio of two counts). A data scientist tries one with a copy of a spec that
    adds it here and to the drivers; the model carries the expressions, so batch scoring
    and the service compute it from the same profile columns."""

    def select(self, examples: Examples) -> Examples:
        """The examples with the derived features added, restricted to the drivers in the
        drivers' order."""
        if self.derived:
            examples = replace(
                examples,
                frame=derive_columns(examples.frame, self.derived),
                features=(
                    *examples.features,
                    *(n for n in self.derived if n not in examples.features),
                ),
            )
        if self.drivers is None:
            return examples
        missing = [name for name in self.drivers if name not in examples.features]
        if missing:
            raise ContractError(
                f"{self.task.name} needs the profile features {missing}: rebuild the profiles "
                "(powerhall features build)"
            )
        return replace(examples, features=tuple(self.drivers))

    def monotone(self, features: Sequence[str]) -> list[int] | None:
        if self.drivers is None:
            return None
        return [self.drivers[name] for name in features]


@dataclass(frozen=True)
class TrainResult(TrainingRun):
    model: RiskModel = field(repr=False)
    test: pd.DataFrame = field(repr=False)


def logistic_baseline(seed: int) -> Any:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        SimpleImputer(strategy="median", keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(max_iter=2000, random_state=seed),
    )


def fit_risk_model(
    examples: Examples,
    split: Split,
    *,
    seed: int,
    calibration: CalibrationMethod = "isotonic",
    monotone: Sequence[int] | None = None,
    derived: Mapping[str, str] | None = None,
) -> RiskModel:
    return RiskModel.fit(
        examples.features,
        split.fit,
        split.fit[LABEL].to_numpy(),
        split.calibrate,
        split.calibrate[LABEL].to_numpy(),
        seed=seed,
        method=calibration,
        monotone=monotone,
        derived={k: v for k, v in (derived or {}).items() if k in examples.features},
    )


def score_all(
    spec: RiskSpec, examples: Examples, split: Split, model: RiskModel, *, seed: int
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, float]]]:
    """Test scores and metrics of the rule, logistic regression, LightGBM and the oracle."""
    past = pd.concat([split.fit, split.calibrate])
    logistic = logistic_baseline(seed).fit(past[list(examples.features)], past[LABEL])
    test = split.test
    y = test[LABEL].to_numpy()
    scores = {
        "rule": np.asarray(spec.rule(test), dtype=float),
        "logistic": logistic.predict_proba(test[list(examples.features)])[:, 1],
        "lightgbm_uncalibrated": model.raw_probability(test),
        "lightgbm": model.probability(test),
    }
    metrics = {name: classification_metrics(y, score) for name, score in scores.items()}
    known = test[ORACLE].notna().to_numpy()
    if known.any() and len(np.unique(y[known])) == 2:
        metrics["oracle"] = classification_metrics(y[known], test[ORACLE].to_numpy()[known])
        metrics["oracle"]["coverage"] = float(known.mean())
        metrics["lightgbm"]["auc_vs_oracle"] = metrics["lightgbm"]["auc"] / metrics["oracle"]["auc"]
        scores["oracle"] = np.where(known, test[ORACLE].to_numpy(), np.nan)
    return scores, metrics


def train_risk(
    spec: RiskSpec,
    settings: Settings,
    *,
    cutoff: date | None = None,
    seed: int | None = None,
    calibration: CalibrationMethod = "isotonic",
    model_name: str | None = None,
    drop_features: Sequence[str] = (),
    tracking_uri: str | None = None,
) -> TrainResult:
    """One tracked run: examples, split, three scorers, plots, the model, its version, the gate."""
    import mlflow
    from mlflow.models import infer_signature

    task = spec.task
    name = model_name or task.name
    seed = settings.seed if seed is None else seed
    tracking.configure(tracking_uri)
    tracking.use_experiment(name)
    examples = spec.select(build_examples(task, settings))
    if drop_features:
        examples = replace(
            examples, features=tuple(f for f in examples.features if f not in set(drop_features))
        )
    split = temporal_split(examples, task.horizon_days, cutoff=cutoff)
    model = fit_risk_model(
        examples,
        split,
        seed=seed,
        calibration=calibration,
        monotone=spec.monotone(examples.features),
        derived=spec.derived,
    )
    scores, metrics = score_all(spec, examples, split, model, seed=seed)
    rows = {part: len(getattr(split, part)) for part in ("fit", "calibrate", "test")}
    rows |= {f"{part}_positives": int(getattr(split, part)[LABEL].sum()) for part in rows}
    window = split.window()
    features = split.test[list(examples.features)]

    with mlflow.start_run(run_name=f"{name}-{split.cutoff.isoformat()}") as run:
        mlflow.log_params(
            {
                "model": name,
                "seed": seed,
                "horizon_days": task.horizon_days,
                "segments": ",".join(task.segments),
                "calibration": calibration,
                "rule": spec.rule_description,
                "features": len(examples.features),
                **{f"window_{key}": value for key, value in window.items()},
                **{f"lgbm_{key}": value for key, value in lightgbm_params(seed).items()},
            }
        )
        mlflow.log_metrics(
            {f"{scorer}_{key}": value for scorer, m in metrics.items() for key, value in m.items()}
            | {f"rows_{part}": count for part, count in rows.items()}
        )
        with tempfile.TemporaryDirectory() as tmp:
            sample = features.sample(n=min(len(features), 5000), random_state=seed)
            plots = save_plots(
                split.test[LABEL].to_numpy(),
                {k: v for k, v in scores.items() if not np.isnan(v).any()},
                importance=model.importance(),
                contributions=model.contributions(sample),
                feature_values=sample.to_numpy(dtype=float),
                feature_names=examples.features,
                out_dir=Path(tmp),
            )
            for path in plots:
                mlflow.log_artifact(str(path), artifact_path="plots")
        mlflow.log_dict(
            {"features": list(examples.features), "derived": dict(spec.derived)}, "features.json"
        )
        mlflow.log_dict(metrics, "metrics.json")
        example = features.head(5)
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
            features=features,
            labels=split.test[LABEL].to_numpy(),
        )
    return TrainResult(
        name=name,
        run_id=run.info.run_id,
        version=model_version,
        window=window,
        rows=rows,
        metrics=metrics,
        decision=decision,
        model=model,
        test=split.test,
    )
