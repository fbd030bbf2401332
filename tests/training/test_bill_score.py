"""Batch bill forecasts for the scores view, on the generated world."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from powerhall.settings import Settings
from training.bill_forecast import Reason
from training.bill_score import COLUMNS, FIELDS, arrow_columns, bill_forecasts
from training.classifier import TrainResult
from training.score import latest_profiles, score

MONTH = "2026-07"
"""The training world's readings end on 30 June 2026: the forecast is of July."""


@pytest.fixture(scope="module")
def profiles(settings: Settings) -> pd.DataFrame:
    return latest_profiles(settings)


@pytest.fixture(scope="module")
def forecasts(profiles: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    return bill_forecasts(profiles, settings)


def test_every_scored_customer_gets_this_months_forecast_or_a_reason(
    forecasts: pd.DataFrame, profiles: pd.DataFrame
) -> None:
    assert forecasts["customer_id"].tolist() == profiles["customer_id"].astype(str).tolist()
    made = forecasts["reason"] == ""
    assert made.mean() > 0.9
    assert (forecasts.loc[made, "bill_forecast_month"] == MONTH).all()
    assert forecasts.loc[made, "bill_forecast_cny"].notna().all()
    assert forecasts.loc[~made, ["bill_forecast_month", "bill_forecast_cny"]].isna().all().all()


def test_the_band_and_the_crossing_days_are_ordered(forecasts: pd.DataFrame) -> None:
    made = forecasts[forecasts["reason"] == ""]
    assert (made["bill_forecast_p10_cny"] <= made["bill_forecast_cny"]).all()
    assert (made["bill_forecast_cny"] <= made["bill_forecast_p90_cny"]).all()
    crossing = made.dropna(subset=["tier_cross_date"])
    assert len(crossing) > 0
    dates = crossing[["tier_cross_earliest", "tier_cross_date"]].apply(pd.to_datetime)
    assert (dates["tier_cross_earliest"] <= dates["tier_cross_date"]).all()
    assert (dates["tier_cross_date"] >= pd.Timestamp(f"{MONTH}-01")).all()
    late = crossing["tier_cross_latest"].dropna().map(pd.Timestamp)
    assert (late >= pd.to_datetime(crossing.loc[late.index, "tier_cross_date"])).all()
    assert crossing["tier_next"].isin([2, 3]).all()


def test_the_usual_bill_and_the_reasons_are_readable(forecasts: pd.DataFrame) -> None:
    made = forecasts[forecasts["reason"] == ""]
    assert made["bill_usual_cny"].notna().mean() > 0.9
    reasons = [r for raw in made["bill_alert_reason"] for r in json.loads(raw)]
    assert reasons, "a summer month up on last year's for some customers"
    assert {r["code"] for r in reasons} <= {str(code) for code in Reason}
    assert all(isinstance(r["value"], float) for r in reasons)


def test_arrow_columns_are_typed_whether_forecast_or_not(forecasts: pd.DataFrame) -> None:
    table = pa.table(arrow_columns(forecasts, len(forecasts)))
    assert table.schema == pa.schema(FIELDS)
    assert table.num_rows == len(forecasts)
    empty = pa.table(arrow_columns(None, 3))
    assert empty.schema == pa.schema(FIELDS) and empty.column(0).null_count == 3
    assert tuple(table.column_names) == COLUMNS
    assert np.array_equal(
        table.column("bill_forecast_cny").to_numpy(zero_copy_only=False),
        forecasts["bill_forecast_cny"].to_numpy(),
        equal_nan=True,
    )


def test_powerhall_score_writes_them_into_the_scores_view(
    forecasts: pd.DataFrame, settings: Settings, tracking_uri: str, complaint_run: TrainResult
) -> None:
    # older than the other scoring tests' runs: the newest scores stay theirs
    run = score(
        settings,
        models=["complaint"],
        scored_at=datetime(2025, 12, 29, tzinfo=UTC),
        tracking_uri=tracking_uri,
    )
    table = pd.read_parquet(run.path).set_index("customer_id")
    expected = forecasts.set_index("customer_id").loc[table.index]
    for field in FIELDS:
        got, want = table[field.name], expected[field.name]
        if pa.types.is_string(field.type):
            assert got.fillna("-").tolist() == want.fillna("-").tolist(), field.name
        else:
            np.testing.assert_array_equal(
                got.to_numpy(dtype=float, na_value=np.nan),
                want.to_numpy(dtype=float, na_value=np.nan),
                err_msg=field.name,
            )
    assert table["bill_forecast_cny"].notna().mean() > 0.9
