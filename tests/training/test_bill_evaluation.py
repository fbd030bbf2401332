"""The bill forecast evaluated on the generated world: against the bills that came, beside
the naive methods, sharper on the 20th than on the 10th."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from powerhall.contract import Table
from powerhall.errors import ContractError
from powerhall.lake import read_table
from powerhall.settings import Settings
from training.bill_evaluation import BillEvaluation, evaluate, evaluation_months

MONTHS = ("2026-04", "2026-05")
"""The last two billed months of the training world: its readings end on 30 June 2026, and
June's bills are issued in July."""


@pytest.fixture(scope="module")
def evaluation(settings: Settings) -> BillEvaluation:
    return evaluate(settings, months=len(MONTHS))


def test_every_billed_customer_is_forecast_against_their_own_bill(
    evaluation: BillEvaluation, settings: Settings
) -> None:
    assert evaluation.months == MONTHS
    bills = read_table(
        settings.lake_dir, Table.BILLS, columns=["customer_id", "period", "amount_cny"]
    )
    actual = bills.astype({"customer_id": str}).set_index(["customer_id", "period"])["amount_cny"]
    rows = evaluation.rows[evaluation.rows["method"] == "recent"]
    for month in MONTHS:
        for day in (10, 20):
            mine = rows[(rows["month"] == month) & (rows["day"] == day)]
            billed = actual.xs(month, level="period")
            assert len(mine) >= 0.9 * len(billed), "most billed customers are forecast"
            expected = actual.reindex(
                pd.MultiIndex.from_arrays([mine["customer_id"], mine["month"]])
            )
            assert mine["actual_cny"].to_numpy() == pytest.approx(expected.to_numpy())


def test_the_forecast_beats_the_naive_methods_and_sharpens_through_the_month(
    evaluation: BillEvaluation,
) -> None:
    summary = evaluation.summary.set_index(["day", "method"])
    mape = summary["mape_pct"]
    assert mape[(20, "recent")] < mape[(10, "recent")] < 15
    assert mape[(10, "recent")] < mape[(10, "run_rate")]
    assert mape[(10, "recent")] < mape[(10, "last_year")]
    coverage = summary.loc[(slice(None), "recent"), "band_coverage"]
    assert coverage.between(0.5, 0.97).all()
    assert summary.loc[(slice(None), "run_rate"), "band_coverage"].isna().all()
    assert (summary["bills"] > 300).all()


def test_evaluation_months_are_whole_months_of_readings() -> None:
    assert evaluation_months(date(2026, 6, 30), "2026-06", 2) == [
        date(2026, 5, 1),
        date(2026, 6, 1),
    ]
    assert evaluation_months(date(2026, 6, 29), "2026-06", 1) == [date(2026, 5, 1)]
    assert evaluation_months(date(2026, 6, 30), "2026-05", 1) == [date(2026, 5, 1)]


def test_evaluate_refuses_what_it_cannot_measure(settings: Settings) -> None:
    with pytest.raises(ContractError, match="months >= 1"):
        evaluate(settings, months=0)
    with pytest.raises(ContractError, match="days within 1-28"):
        evaluate(settings, days=(31,))
