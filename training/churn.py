"""Churn: will a commercial or industrial customer leave for another retailer within 90 days?

Label: the contract's `closed_at` falls in [snapshot, snapshot + 90 days). Oracle: the
generator's probability of leaving within three months given the state of the snapshot's
month (`truth/churn_monthly`), which knows the customer's hidden price sensitivity.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from powerhall.contract import Segment
from powerhall.settings import Settings
from training.classifier import RiskSpec
from training.datasets import SNAPSHOT, Task, closures, next_event_within, truth_table

NAME: Final = "churn"
HORIZON_DAYS: Final = 90
BILL_RISE: Final = 0.2


DRIVERS: Final = {
    "bill_growth_90d": 1,
    "bill_growth_30d": 1,
    "bill_yoy_change_90d": 1,
    "complaints_90d": 1,
    "tip_suggestions_declined_365d": 0,
    "tariff_suggestions_declined_365d": 0,
    "tariff_suggestions_accepted_365d": 0,
}
"""Why a business leaves: bills growing (against last year, or against its earlier bills in
its first year), recent complaints, and how it answers offers that would save it money,
the visible trace of its price sensitivity. Load shape and size are left out on purpose:
with a few dozen leavers to learn from they only identify those customers."""


def labels(rows: pd.DataFrame, settings: Settings) -> pd.Series:
    return next_event_within(rows, closures(settings), HORIZON_DAYS)


def oracle(rows: pd.DataFrame, settings: Settings) -> pd.Series:
    periods = rows[SNAPSHOT].dt.strftime("%Y-%m")
    truth = truth_table(settings, "churn_monthly", period=sorted(periods.unique()))
    if truth is None:
        return pd.Series(np.nan, index=rows.index)
    keyed = truth.set_index(["customer_id", "period"])["churn_prob_90d"]
    return pd.Series(
        keyed.reindex(pd.MultiIndex.from_arrays([rows["customer_id"], periods])).to_numpy(),
        index=rows.index,
    )


def rule(rows: pd.DataFrame) -> np.ndarray:
    """Account managers' watch list: a recent complaint, a bill well up on last year."""
    complained = rows["complaints_90d"].fillna(0) > 0
    bill_up = rows["bill_yoy_change_90d"].fillna(0) > BILL_RISE
    return (complained.astype(float) + bill_up.astype(float)).to_numpy() / 2


SPEC: Final = RiskSpec(
    task=Task(
        name=NAME,
        horizon_days=HORIZON_DAYS,
        segments=(Segment.COMMERCIAL, Segment.INDUSTRIAL),
        labeller=labels,
        oracle=oracle,
    ),
    rule=rule,
    rule_description=f"complaints_90d > 0 or bill_yoy_change_90d > {BILL_RISE}",
    drivers=DRIVERS,
)
