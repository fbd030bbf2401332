"""The service's storage on SQLite and on the real PostgreSQL: directory sync, feedback
with idempotency and its export to the lake, events, the acceptance report."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from powerhall.contract import Table
from powerhall.lake import read_table
from serving.auth import Caller, Role, create_key
from serving.db.engine import session_factory
from serving.db.migrate import upgrade
from serving.db.tables import Customer, SuggestionOutcome, SuggestionServed
from serving.directory import sync_customers
from serving.events import receive_event
from serving.feedback import IdempotencyConflictError, export_outcomes, record_outcome
from serving.reports import acceptance
from serving.schemas import EventCreate, FeedbackCreate
from tests.features.lake import World
from tests.serving.databases import fresh_database

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def session(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    serving_world: World,
) -> Iterator[Session]:
    with fresh_database(request, tmp_path_factory) as (url, engine):
        upgrade(url)
        with session_factory(engine)() as session:
            sync_customers(session, serving_world.lake_dir)
            yield session


@pytest.fixture
def caller(session: Session) -> Caller:
    key, _ = create_key(session, role=Role.ADMIN, name="admin", hall_id=None, now=NOW)
    return Caller(key_id=key.id, name=key.name, role=Role.ADMIN, hall_id=None)


def _served(
    session: Session, suggestion_id: str, kind: str, *, hall: str, counter: str
) -> SuggestionServed:
    row = SuggestionServed(
        suggestion_id=suggestion_id,
        customer_id="C0001",
        kind=kind,
        item_id=f"item-{suggestion_id}",
        channel="counter",
        hall_id=hall,
        counter_id=counter,
        payload={"title": "t"},
        shown_at=NOW - timedelta(hours=1),
    )
    session.add(row)
    session.commit()
    return row


def test_sync_customers_is_idempotent(session: Session, serving_world: World) -> None:
    assert sync_customers(session, serving_world.lake_dir) == len(serving_world.customers)
    assert session.scalar(select(func.count()).select_from(Customer)) == len(
        serving_world.customers
    )
    customer = session.get(Customer, "C0001")
    assert customer is not None
    assert (customer.hall_id, customer.phone, customer.has_app) == ("H01", "13800000000", True)
    assert customer.created_at.tzinfo is not None


def test_feedback_is_stored_once_per_key_and_exported_once(
    session: Session, caller: Caller, tmp_path: Path
) -> None:
    served = _served(session, "s-1", "tip", hall="H01", counter="1")
    body = FeedbackCreate(outcome="accepted", staff_id="S1")
    first = record_outcome(
        session, served=served, body=body, caller=caller, idempotency_key="k", now=NOW
    )
    replay = record_outcome(
        session, served=served, body=body, caller=caller, idempotency_key="k", now=NOW
    )
    assert first.created and not replay.created and replay.row.id == first.row.id
    with pytest.raises(IdempotencyConflictError):
        record_outcome(
            session,
            served=served,
            body=FeedbackCreate(outcome="declined"),
            caller=caller,
            idempotency_key="k",
            now=NOW,
        )
    shown_only = record_outcome(
        session,
        served=_served(session, "s-2", "tariff", hall="H01", counter="2"),
        body=FeedbackCreate(outcome="shown"),
        caller=caller,
        idempotency_key="k2",
        now=NOW,
    )
    assert shown_only.created

    lake = tmp_path / "lake"
    assert export_outcomes(session, lake_dir=lake, timezone="Asia/Shanghai", now=NOW) == 1
    exported = read_table(lake, Table.SUGGESTION_OUTCOMES)
    assert exported[["suggestion_id", "customer_id", "kind", "outcome"]].values.tolist() == [
        ["s-1", "C0001", "tip", "accepted"]
    ]
    assert exported["shown_at"].iloc[0] == NOW - timedelta(hours=1)
    assert export_outcomes(session, lake_dir=lake, timezone="Asia/Shanghai", now=NOW) == 0
    assert session.scalar(select(func.count()).where(SuggestionOutcome.exported_at.is_(None))) == 0


def test_acceptance_report_groups_in_sql(session: Session, caller: Caller) -> None:
    for i, (kind, counter, outcome) in enumerate(
        [("tip", "1", "accepted"), ("tip", "1", "declined"), ("tariff", "2", "accepted")]
    ):
        served = _served(session, f"s-{i}", kind, hall="H01", counter=counter)
        record_outcome(
            session,
            served=served,
            body=FeedbackCreate(outcome=outcome, staff_id=f"S{counter}"),  # type: ignore[arg-type]
            caller=caller,
            idempotency_key=f"k-{i}",
            now=NOW,
        )
    _served(session, "s-unanswered", "tip", hall="H02", counter="1")
    assert acceptance(session, group_by="kind", since=None) == [
        ("tip", 3, 1, 1),
        ("tariff", 1, 1, 0),
    ]
    assert acceptance(session, group_by="counter", since=None) == [
        ("H01/1", 2, 1, 1),
        ("H01/2", 1, 1, 0),
        ("H02/1", 1, 0, 0),
    ]
    assert acceptance(session, group_by="staff", since=None) == [
        ("S1", 2, 1, 1),
        ("S2", 1, 1, 0),
    ]
    assert acceptance(session, group_by="hall", since=NOW + timedelta(days=1)) == []


def test_an_event_is_stored_once(session: Session) -> None:
    event = EventCreate(event_id="E1", customer_id="C0001", kind="outage", ts=NOW)
    first = receive_event(session, event=event, profiles=None, now=NOW)
    again = receive_event(session, event=event, profiles=None, now=NOW)
    assert (first.stored, first.pushed) == (True, False)
    assert (again.stored, again.pushed) == (False, False)
