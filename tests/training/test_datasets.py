from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from powerhall.contract import EventKind, Segment, Table
from powerhall.errors import PowerhallError
from powerhall.lake import read_table
from powerhall.settings import Settings
from training import churn, complaint
from training.datasets import LABEL, SNAPSHOT, build_examples, temporal_split


@pytest.fixture(scope="module")
def complaint_examples(settings: Settings):
    return build_examples(complaint.SPEC.task, settings)


def test_split_windows_never_cross_the_cutoff(complaint_examples) -> None:
    horizon = pd.Timedelta(days=complaint.HORIZON_DAYS)
    split = temporal_split(complaint_examples, complaint.HORIZON_DAYS)
    cutoff = pd.Timestamp(split.cutoff)
    assert (split.fit[SNAPSHOT] + horizon <= split.calibrate[SNAPSHOT].min()).all()
    assert (split.calibrate[SNAPSHOT] + horizon <= cutoff).all()
    assert (split.test[SNAPSHOT] >= cutoff).all()
    assert len(split.fit) and len(split.calibrate) and len(split.test)


def test_label_windows_fit_inside_the_data(complaint_examples) -> None:
    end = pd.Timestamp(complaint_examples.data_end + timedelta(days=1))
    horizon = pd.Timedelta(days=complaint.HORIZON_DAYS)
    assert (complaint_examples.frame[SNAPSHOT] + horizon <= end).all()


def test_complaint_label_is_a_complaint_in_the_30_days_from_the_snapshot(
    settings: Settings, complaint_examples
) -> None:
    events = read_table(
        settings.lake_dir, Table.SERVICE_EVENTS, columns=["customer_id", "ts", "kind"]
    )
    events = events[events["kind"] == EventKind.COMPLAINT]
    days = events["ts"].dt.tz_convert(settings.timezone).dt.tz_localize(None).dt.normalize()
    by_customer = days.groupby(events["customer_id"]).apply(list).to_dict()
    rows = complaint_examples.frame.sample(n=400, random_state=0)
    positives = complaint_examples.frame[complaint_examples.frame[LABEL] == 1].head(100)
    for _, row in pd.concat([rows, positives]).iterrows():
        start = row[SNAPSHOT]
        expected = any(
            start <= day < start + pd.Timedelta(days=30)
            for day in by_customer.get(row.customer_id, [])
        )
        assert row[LABEL] == int(expected), (row.customer_id, start)


def test_features_end_before_the_label_window_starts(complaint_examples) -> None:
    """A complaint on the snapshot's day is in the label, not in the 30-day count."""
    frame = complaint_examples.frame
    snapshot_utc = frame[SNAPSHOT].dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC")
    assert (frame["event_timestamp"] == snapshot_utc).all()
    recent = frame["days_since_complaint"].dropna()
    assert (recent > 0).all()


def test_churn_examples_are_business_customers_still_open(settings: Settings) -> None:
    examples = build_examples(churn.SPEC.task, settings)
    customers = read_table(settings.lake_dir, Table.CUSTOMERS).set_index("customer_id")
    rows = examples.frame.join(customers[["closed_at"]], on="customer_id")
    assert set(examples.frame["segment"]) <= {Segment.COMMERCIAL, Segment.INDUSTRIAL}
    closed = rows["closed_at"].dt.tz_convert(settings.timezone).dt.tz_localize(None).dt.normalize()
    assert (closed.isna() | (closed >= rows[SNAPSHOT])).all()
    positives = rows[rows[LABEL] == 1]
    assert len(positives) > 0
    assert (closed[positives.index] < positives[SNAPSHOT] + pd.Timedelta(days=90)).all()


def test_a_cutoff_before_the_data_is_refused(complaint_examples) -> None:
    first = complaint_examples.frame[SNAPSHOT].min().date()
    with pytest.raises(PowerhallError, match="no training examples"):
        temporal_split(complaint_examples, complaint.HORIZON_DAYS, cutoff=first)
