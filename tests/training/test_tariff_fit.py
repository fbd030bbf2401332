"""tariff_fit: the forecast, the billed options and their band, the advice, the acceptance
model, its registration and batch scoring."""

from __future__ import annotations

import json
from datetime import date

import mlflow
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from powerhall.contract import KWH_COLUMNS, Table
from powerhall.errors import PowerhallError
from powerhall.lake import read_table
from powerhall.settings import Settings, get_settings
from powerhall.tariffs import load_catalogue
from training.cli import app
from training.registry import CHAMPION
from training.score import score
from training.tariff_data import customers_at, readings_before
from training.tariff_fit import NAME, TariffFitResult, check_window, train_tariff_fit
from training.tariff_forecast import ForecastLayout, forecast_layout, history
from training.tariff_options import Advice, Band, advise, bill_forecasts, candidates, savings

CUTOFF = date(2026, 1, 1)
BAND = Band(low={"": 0.85}, high={"": 1.15})


@pytest.fixture(scope="module")
def tariff_run(settings: Settings, tracking_uri: str) -> TariffFitResult:
    return train_tariff_fit(settings, tracking_uri=tracking_uri)


@pytest.fixture(scope="module")
def options(settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers at CUTOFF and the savings of their eligible tariffs at the test band."""
    customers = customers_at(settings, CUTOFF, in_force_from_bills=True)
    hist = history(readings_before(settings, CUTOFF), customers["customer_id"], CUTOFF)
    bills = bill_forecasts(hist, customers, load_catalogue(), BAND.volumes(customers["segment"]))
    return customers, savings(bills, customers, load_catalogue())


def test_the_forecast_reads_nothing_on_or_after_the_cutoff(settings: Settings) -> None:
    readings = read_table(settings.lake_dir, Table.READINGS)
    ids = readings["customer_id"].astype(str).unique()[:40]
    readings = readings[readings["customer_id"].isin(ids)]
    before = readings[readings["date"] < pd.Timestamp(CUTOFF)]
    later = readings[readings["date"] >= pd.Timestamp(CUTOFF)].copy()
    assert len(later)
    later[list(KWH_COLUMNS)] = later[list(KWH_COLUMNS)] * 5  # a future nothing may see
    plain, appended = (
        history(frame, ids, CUTOFF) for frame in (before, pd.concat([before, later]))
    )
    for field in ("span_days", "coverage", "trend", "profile", "demand_kw"):
        np.testing.assert_array_equal(getattr(plain, field), getattr(appended, field))
    rows = np.arange(len(ids))
    first, second = (forecast_layout(h, rows, np.ones(len(ids))) for h in (plain, appended))
    np.testing.assert_array_equal(first.kwh, second.kwh)
    np.testing.assert_array_equal(first.dates, second.dates)
    assert first.dates.max() == np.datetime64("2026-12-31")


def test_a_volume_scales_the_forecast_and_never_the_readings_of_the_year_so_far(
    settings: Settings,
) -> None:
    cutoff = date(2026, 4, 1)
    ids = customers_at(settings, cutoff, in_force_from_bills=True)["customer_id"].to_numpy()[:40]
    hist = history(readings_before(settings, cutoff, ids), ids, cutoff)
    layout = ForecastLayout.build(hist, np.arange(len(ids)))
    plain, high = (layout.at_volume(np.full(len(ids), v)) for v in (1.0, 1.5))
    actual = plain.dates < np.datetime64(cutoff)
    assert actual.any() and (~actual).any()
    np.testing.assert_array_equal(high.kwh[actual], plain.kwh[actual])
    np.testing.assert_array_equal(high.row_demand_kw[actual], plain.row_demand_kw[actual])
    np.testing.assert_allclose(high.kwh[~actual], 1.5 * plain.kwh[~actual])
    np.testing.assert_allclose(high.row_demand_kw[~actual], 1.5 * plain.row_demand_kw[~actual])


def test_the_cutoff_is_the_first_of_a_month() -> None:
    with pytest.raises(PowerhallError, match="first day of a month"):
        history(pd.DataFrame(columns=["customer_id", "date"]), np.array([]), date(2026, 1, 15))


def test_the_saving_band_is_ordered(options: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, table = options
    assert len(table) > 50
    assert (table["saving_p10"] <= table["saving_p50"]).all()
    assert (table["saving_p50"] <= table["saving_p90"]).all()
    assert (table["saving_p10"] < table["saving_p90"]).mean() > 0.9  # volume moves bills
    assert (table["bill_risk_cny"] >= 0).all()
    assert (table.loc[~table["tou"], "bill_risk_cny"] == 0).all()


def test_only_eligible_tariffs_are_billed_and_proposed(
    settings: Settings, options: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    customers, table = options
    catalogue = load_catalogue()
    eligible = {
        (segment, region): {t.id for t in catalogue.eligible(segment=segment, region=region)}
        for segment, region in customers[["segment", "region"]].drop_duplicates().to_numpy()
    }
    allowed = customers.set_index("customer_id").apply(
        lambda c: eligible[(c["segment"], c["region"])], axis=1
    )
    assert all(t in allowed[c] for c, t in table[["customer_id", "tariff_id"]].to_numpy())
    pairs = candidates(customers, catalogue)
    assert set(pairs["customer_id"]) == set(customers["customer_id"])
    hist = history(readings_before(settings, CUTOFF), customers["customer_id"], CUTOFF)
    answers = advise(hist, customers, table, min_saving_cny=30, vacant_kwh_per_day=0.5)
    switching = answers[answers["tariff_advice"] == Advice.SWITCH]
    assert len(switching)
    assert all(t in allowed[c] for c, t in switching[["customer_id", "best_tariff_id"]].to_numpy())
    assert (switching["best_tariff_saving_cny_365d"] >= 30).all()


def _days(customer: str, start: str, days: int, hourly: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(np.tile(hourly, (days, 1)), columns=list(KWH_COLUMNS), dtype=float).assign(
        customer_id=customer, date=pd.date_range(start, periods=days, freq="D")
    )
    return frame


def test_the_advice_follows_the_safeguards() -> None:
    """Too short, too patchy, vacant, night owl (time of use pays) and day worker (it does not)."""
    night = np.where((np.arange(24) >= 22) | (np.arange(24) < 6), 1.2, 0.1)
    day = np.where((np.arange(24) >= 8) & (np.arange(24) < 21), 0.8, 0.01)
    patchy = _days("patchy", "2025-01-01", 365, day)
    patchy.loc[patchy.index % 2 == 0, list(KWH_COLUMNS)] = np.nan
    readings = pd.concat(
        [
            _days("short", "2025-06-01", 200, day),
            patchy,
            _days("vacant", "2025-01-01", 365, np.full(24, 0.005)),
            _days("night", "2025-01-01", 365, night),
            _days("day", "2025-01-01", 365, day),
        ],
        ignore_index=True,
    )
    ids = np.array(["short", "patchy", "vacant", "night", "day"], dtype=object)
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "segment": "residential",
            "region": "jiangsu",
            "tariff_id": "jiangsu-res-tiered",
            "contract_capacity_kva": np.nan,
        }
    )
    hist = history(readings, ids, CUTOFF)
    catalogue = load_catalogue()
    table = savings(
        bill_forecasts(hist, customers, catalogue, BAND.volumes(customers["segment"])),
        customers,
        catalogue,
    )
    answers = advise(hist, customers, table, min_saving_cny=30, vacant_kwh_per_day=0.5)
    answers = answers.set_index("customer_id")
    assert answers["tariff_advice"].to_dict() == {
        "short": "insufficient_data",
        "patchy": "insufficient_data",
        "vacant": "vacant",
        "night": "switch",
        "day": "stay",
    }
    assert "214 days" in answers.loc["short", "reason"]
    assert "50%" in answers.loc["patchy", "reason"]
    assert answers.loc[["short", "patchy", "vacant"], "best_tariff_id"].isna().all()
    assert answers.loc["night", "best_tariff_id"] == "jiangsu-res-tou"
    assert answers.loc["night", "best_tariff_saving_cny_365d"] > 30
    assert answers.loc["day", "best_tariff_id"] == "jiangsu-res-tiered"
    assert answers.loc["day", "best_tariff_saving_cny_365d"] == 0
    day_tou = table.set_index("customer_id").loc["day"]
    assert day_tou["saving_p50"] < 0 and day_tou["bill_risk_cny"] > 0  # the risk is shown


def test_the_savings_check_window() -> None:
    assert check_window(date(2024, 7, 1), date(2026, 6, 30)) == (date(2025, 7, 1), 12)
    assert check_window(date(2025, 2, 16), date(2026, 6, 30)) == (date(2025, 12, 1), 7)
    with pytest.raises(PowerhallError, match="too short"):
        check_window(date(2025, 6, 1), date(2026, 3, 31))


def test_the_run_checks_savings_against_the_true_next_months(tariff_run: TariffFitResult) -> None:
    saving = tariff_run.metrics["saving"]
    assert tariff_run.check.truth_source == "truth/tariff_bills"
    assert saving["pairs"] > 100
    assert saving["saving_error_share_median"] < 0.25
    assert saving["saving_abs_error_cny_median"] < saving["saving_true_abs_cny_median"]
    assert 0 < tariff_run.check.band.low[""] < 1 < tariff_run.check.band.high[""]


def test_the_acceptance_model_beats_the_rule(tariff_run: TariffFitResult) -> None:
    metrics = tariff_run.metrics
    assert {"rule", "logistic", "lightgbm", "oracle"} <= set(metrics)
    assert metrics["lightgbm"]["auc"] > metrics["rule"]["auc"]
    assert metrics["lightgbm"]["brier"] < metrics["rule"]["brier"]
    run = mlflow.MlflowClient().get_run(tariff_run.run_id)
    assert "saving_saving_error_share_median" in run.data.metrics
    assert run.data.params["window_saving_cutoff"] == tariff_run.window["saving_cutoff"]
    plots = {a.path for a in mlflow.MlflowClient().list_artifacts(tariff_run.run_id, "plots")}
    assert {"plots/roc.png", "plots/calibration.png", "plots/saving_check.png"} <= plots


def test_the_champion_by_alias_predicts_as_in_memory(tariff_run: TariffFitResult) -> None:
    assert tariff_run.decision.alias == CHAMPION
    served = mlflow.pyfunc.load_model(f"models:/{NAME}@{CHAMPION}")
    features = tariff_run.test[list(tariff_run.model.features)]
    predicted = served.predict(features)["probability"].to_numpy()
    assert np.array_equal(predicted, tariff_run.model.probability(features))
    assert served.unwrap_python_model().model.band == tariff_run.check.band


def test_batch_scoring_fills_the_tariff_columns(
    settings: Settings, tracking_uri: str, tariff_run: TariffFitResult
) -> None:
    run = score(settings, models=[NAME], tracking_uri=tracking_uri)
    table = pd.read_parquet(run.path)
    run.path.unlink()  # the session's scores view belongs to test_score
    assert run.models == {NAME: tariff_run.version}
    assert set(table["tariff_advice"]) <= {a.value for a in Advice}
    assert table["tariff_advice"].notna().all()
    switch = table[table["tariff_advice"] == Advice.SWITCH]
    stay = table[table["tariff_advice"] == Advice.STAY]
    assert len(switch) and len(stay)
    assert (switch["best_tariff_saving_cny_365d"] >= settings.tariff_min_saving_cny).all()
    assert switch["best_tariff_acceptance"].between(0, 1).all()
    assert (stay["best_tariff_saving_cny_365d"] == 0).all()
    contracts = read_table(settings.lake_dir, Table.CUSTOMERS).set_index("customer_id")
    assert (
        stay["best_tariff_id"].to_numpy() == contracts.loc[stay["customer_id"], "tariff_id"]
    ).all()


def test_cli_trains_tariff_fit_as_json(
    settings: Settings, tracking_uri: str, tariff_run: TariffFitResult, monkeypatch
) -> None:
    monkeypatch.setenv("POWERHALL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("POWERHALL_SEED", str(settings.seed))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["train", "tariff_fit", "--json", "--calibration", "sigmoid"])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert run["name"] == NAME
    assert run["metrics"]["saving"] == pytest.approx(tariff_run.metrics["saving"])
    assert run["metrics"]["lightgbm"]["auc"] == pytest.approx(tariff_run.metrics["lightgbm"]["auc"])
    assert run["decision"]["alias"] == "challenger"  # the same model does not beat itself
