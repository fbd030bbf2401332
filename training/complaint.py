"""Complaint: will a customer file a complaint within the next 30 days?

Label: a `complaint` service event dated (local time) in [snapshot, snapshot + 30 days).
Oracle: the generator's probability of a complaint in those 30 days given everything
before the snapshot (`truth/complaint_daily`), which knows each customer's proneness and
the decaying traces of bad experiences.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from powerhall.contract import Segment
from powerhall.settings import Settings
from training.classifier import RiskSpec
from training.datasets import SNAPSHOT, Task, complaint_events, next_event_within, truth_table

NAME: Final = "complaint"
HORIZON_DAYS: Final = 30
BILL_RISE: Final = 0.2


DRIVERS: Final = {
    "outages_7d": 1,
    "outages_30d": 1,
    "outages_90d": 0,
    "days_since_outage": -1,
    "long_waits_30d": 1,
    "long_waits_90d": 1,
    "estimated_days_30d": 1,
    "meter_faults_30d": 1,
    "meter_faults_90d": 1,
    "bill_growth_30d": 1,
    "bill_yoy_change_90d": 1,
    "complaints_all": 1,
    "tenure_days": 0,
    "complaints_365d": 1,
    "complaints_90d": 1,
    "days_since_complaint": -1,
    "last_satisfaction": -1,
    "mean_wait_minutes_365d": 0,
}
"""Bad experiences of the last weeks (outages, long queues, estimated readings, meter
faults, a bill shock), whose effect fades within a month or two, and the customer's own
complaint history and mood, the visible traces of how prone they are to complain."""


def labels(rows: pd.DataFrame, settings: Settings) -> pd.Series:
    return next_event_within(rows, complaint_events(settings), HORIZON_DAYS)


def oracle(rows: pd.DataFrame, settings: Settings) -> pd.Series:
    days = sorted(rows[SNAPSHOT].dt.date.unique())
    truth = truth_table(settings, "complaint_daily", date=days)
    if truth is None:
        return pd.Series(np.nan, index=rows.index)
    keyed = truth.assign(date=pd.to_datetime(truth["date"])).set_index(["customer_id", "date"])
    return pd.Series(
        keyed["complaint_prob_30d"]
        .astype("float64")
        .reindex(pd.MultiIndex.from_arrays([rows["customer_id"], rows[SNAPSHOT]]))
        .to_numpy(),
        index=rows.index,
    )


def rule(rows: pd.DataFrame) -> np.ndarray:
    """Service-recovery list: complained lately, an outage this month, or a bill shock."""
    flags = [
        rows["complaints_90d"].fillna(0) > 0,
        rows["outages_30d"].fillna(0) > 0,
        rows["bill_yoy_change_90d"].fillna(0) > BILL_RISE,
    ]
    return sum(flag.astype(float) for flag in flags).to_numpy() / len(flags)


SPEC: Final = RiskSpec(
    task=Task(
        name=NAME,
        horizon_days=HORIZON_DAYS,
        segments=tuple(Segment),
        labeller=labels,
        oracle=oracle,
    ),
    rule=rule,
    rule_description=(
        f"complaints_90d > 0 or outages_30d > 0 or bill_yoy_change_90d > {BILL_RISE}"
    ),
    drivers=DRIVERS,
)
