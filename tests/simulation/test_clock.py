"""Simulated time: what the lake may know at a cut, and the rounds' calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pyarrow as pa
import pytest

from powerhall.contract import CONTRACT_SCHEMAS, Table
from powerhall.errors import PowerhallError
from simulation.clock import Clock, known_rows

CLOCK = Clock(date(2026, 5, 18), rounds=2, timezone="Asia/Shanghai")
"""Rounds from Monday 2026-05-18; local midnight is 16:00 UTC the day before."""


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def table(kind: Table, rows: list[dict]) -> pa.Table:
    """The contract's columns and types; the columns a test does not care about are null."""
    schema = pa.schema(f.with_nullable(True) for f in CONTRACT_SCHEMAS[kind])
    frame = pd.DataFrame(rows)
    for field in schema:
        if field.name not in frame:
            frame[field.name] = None
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)


def test_the_calendar() -> None:
    assert CLOCK.round_start(1) == date(2026, 6, 1)
    assert CLOCK.end == date(2026, 6, 15)
    assert CLOCK.campaign_days(1) == [date(2026, 6, 1), date(2026, 6, 8)]
    assert CLOCK.local(date(2026, 5, 18)) == datetime(2026, 5, 17, 16, tzinfo=UTC)
    assert Clock.ending(date(2026, 6, 14), 2, "Asia/Shanghai") == CLOCK
    with pytest.raises(PowerhallError, match="Monday"):
        Clock(date(2026, 5, 19), 1, "Asia/Shanghai")
    with pytest.raises(PowerhallError, match="Sunday"):
        Clock.ending(date(2026, 6, 15), 1, "Asia/Shanghai")


def test_customers_known_by_the_cut_without_a_later_closure() -> None:
    rows = table(
        Table.CUSTOMERS,
        [
            {"customer_id": "old", "created_at": utc("2020-01-01"), "closed_at": utc("2026-05-20")},
            {
                "customer_id": "gone",
                "created_at": utc("2020-01-01"),
                "closed_at": utc("2026-05-01"),
            },
            {"customer_id": "new", "created_at": utc("2026-05-20"), "closed_at": None},
        ],
    )
    known = known_rows(Table.CUSTOMERS, rows, since=None, until=CLOCK.start, clock=CLOCK)
    frame = known.to_pandas().set_index("customer_id")
    assert list(frame.index) == ["old", "gone"]
    assert pd.isna(frame.loc["old", "closed_at"]), "a closure after the cut is not known"
    assert frame.loc["gone", "closed_at"] == utc("2026-05-01")


def test_readings_and_events_arrive_by_local_day_and_time() -> None:
    readings = table(
        Table.READINGS,
        [{"customer_id": "c", "date": date(2026, 5, d), "quality": "actual"} for d in (16, 17, 18)],
    )
    first = known_rows(Table.READINGS, readings, since=None, until=CLOCK.start, clock=CLOCK)
    assert first["date"].to_pylist() == [date(2026, 5, 16), date(2026, 5, 17)]
    later = known_rows(
        Table.READINGS, readings, since=CLOCK.start, until=CLOCK.round_start(1), clock=CLOCK
    )
    assert later["date"].to_pylist() == [date(2026, 5, 18)]
    events = table(
        Table.SERVICE_EVENTS,
        [
            {"event_id": "before", "customer_id": "c", "ts": utc("2026-05-17 15:59")},
            {"event_id": "after", "customer_id": "c", "ts": utc("2026-05-17 16:00")},
        ],
    )
    cut = known_rows(Table.SERVICE_EVENTS, events, since=None, until=CLOCK.start, clock=CLOCK)
    assert cut["event_id"].to_pylist() == ["before"]


def test_bills_arrive_once_their_month_ended_and_payments_when_made() -> None:
    bills = table(
        Table.BILLS,
        [
            {"customer_id": "c", "period": "2026-04", "paid_at": utc("2026-05-25")},
            {"customer_id": "c", "period": "2026-05", "paid_at": utc("2026-06-10")},
        ],
    )
    first = known_rows(Table.BILLS, bills, since=None, until=CLOCK.start, clock=CLOCK).to_pandas()
    assert first["period"].tolist() == ["2026-04"]
    assert pd.isna(first["paid_at"].iloc[0]), "paid after the cut"
    second = known_rows(
        Table.BILLS, bills, since=CLOCK.start, until=CLOCK.round_start(1), clock=CLOCK
    ).to_pandas()
    assert second["period"].tolist() == ["2026-04", "2026-05"], "a payment, then a new bill"
    assert second["paid_at"].iloc[0] == utc("2026-05-25")
    assert pd.isna(second["paid_at"].iloc[1])


def test_the_generators_own_suggestions_stop_at_the_start() -> None:
    shown = [
        ("answered-before", utc("2026-05-10"), "accepted", utc("2026-05-11")),
        ("answered-after", utc("2026-05-16"), "declined", utc("2026-05-20")),
        ("after-the-start", utc("2026-05-20"), "accepted", utc("2026-05-21")),
    ]
    rows = table(
        Table.SUGGESTION_OUTCOMES,
        [
            {"suggestion_id": s, "customer_id": "c", "kind": "tip", "item_id": "t",
             "channel": "app", "shown_at": at, "outcome": o, "outcome_at": answered}
            for s, at, o, answered in shown
        ],
    )  # fmt: skip
    first = known_rows(Table.SUGGESTION_OUTCOMES, rows, since=None, until=CLOCK.start, clock=CLOCK)
    frame = first.to_pandas().set_index("suggestion_id")
    assert list(frame.index) == ["answered-before", "answered-after"]
    assert frame.loc["answered-after", "outcome"] == "ignored", "its answer is not known yet"
    assert pd.isna(frame.loc["answered-after", "outcome_at"])
    later = known_rows(
        Table.SUGGESTION_OUTCOMES, rows, since=CLOCK.start, until=CLOCK.round_start(1), clock=CLOCK
    ).to_pandas()
    assert later["suggestion_id"].tolist() == ["answered-after"], "its answer arrives"
    assert later["outcome"].tolist() == ["declined"]
