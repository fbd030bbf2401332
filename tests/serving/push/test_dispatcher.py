"""The dispatcher against a real local gateway: retries, backoff, dead letters, leases,
and two dispatchers on one outbox."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from powerhall.errors import InvalidRequestError
from powerhall.settings import Settings
from serving.db.engine import make_engine, session_factory
from serving.push.dispatcher import Dispatcher, backoff_seconds
from serving.push.outbox import claim, depth, mark_delivered, status_report
from serving.push.tables import DeadLetter, OutboxMessage, OutboxStatus
from tests.serving.push.conftest import Clock
from tests.serving.push.factories import queue_pushes
from tests.serving.push.gateway import Gateway, running


def push_settings(url: str, gateway_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "push_webhook_url": gateway_url,
        "push_backoff_base_seconds": 2.0,
        "push_backoff_cap_seconds": 60.0,
        "push_max_attempts": 5,
        "push_timeout_seconds": 2.0,
    }
    return Settings(data_dir=Path("unused"), **(values | overrides))


def rows(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_every_push_is_delivered_once_despite_failures(
    db_url: str, sessions: sessionmaker[Session], gateway: Gateway, clock: Clock
) -> None:
    gateway.fail_first = 2
    with sessions() as session:
        keys = queue_pushes(session, 12)
    settings = push_settings(db_url, gateway.url)
    with Dispatcher(sessions, settings, clock=clock) as dispatcher:
        first = dispatcher.drain(5)
        for _ in range(4):  # each failure waits its backoff: move the clock past it
            clock.advance(settings.push_backoff_cap_seconds)
            dispatcher.drain(5)
    assert (first.claimed, first.retried, first.delivered) == (12, 12, 0)
    assert set(gateway.applied) == set(keys)
    assert all(gateway.requests[key] == 3 for key in keys)
    assert not gateway.repeats
    assert all(r.status == OutboxStatus.DELIVERED and r.attempts == 3 for r in rows(sessions))
    assert all(r.delivered_at is not None and r.last_error is None for r in rows(sessions))
    body = gateway.applied[keys[0]]
    assert body["customer_id"] == "C000000"
    assert body["title"] == "空调调到26度"
    assert body["deep_link"] == f"powerhall://inbox/{body['suggestion_id']}"
    with sessions() as session:
        assert depth(session) == 0


def test_backoff_grows_until_the_dead_letter(
    db_url: str, sessions: sessionmaker[Session], gateway: Gateway, clock: Clock
) -> None:
    gateway.fail_first = 100
    with sessions() as session:
        queue_pushes(session, 1)
    settings = push_settings(db_url, gateway.url, push_max_attempts=5, push_backoff_cap_seconds=10)
    waits = []
    with Dispatcher(sessions, settings, clock=clock) as dispatcher:
        for _ in range(4):
            assert dispatcher.run_batch(10).retried == 1
            (row,) = rows(sessions)
            waits.append((row.next_attempt_at - clock.now).total_seconds())
            assert dispatcher.run_batch(10).claimed == 0  # not due before its backoff
            clock.now = row.next_attempt_at
        last = dispatcher.run_batch(10)
    assert waits == [2.0, 4.0, 8.0, 10.0]
    assert last.dead == 1
    (row,) = rows(sessions)
    assert row.status == OutboxStatus.DEAD and row.attempts == 5
    with sessions() as session:
        (letter,) = session.scalars(select(DeadLetter)).all()
        report = status_report(session)
    assert letter.outbox_id == row.id and letter.attempts == 5
    assert letter.last_error is not None and letter.last_error.startswith("HTTP 503")
    assert letter.payload == row.payload
    assert report.by_status["dead"] == 1 and report.dead_letters == 1
    assert report.oldest_waiting is None


def test_the_backoff_is_exponential_and_capped() -> None:
    waits = [backoff_seconds(n, base=1.5, cap=20) for n in range(1, 7)]
    assert waits == [1.5, 3.0, 6.0, 12.0, 20.0, 20.0]


@pytest.mark.parametrize(
    ("status", "fate"),
    [(400, "dead"), (404, "dead"), (410, "dead"), (408, "retry"), (429, "retry"), (500, "retry")],
)
def test_only_final_answers_go_to_the_dead_letters_at_once(
    db_url: str, sessions: sessionmaker[Session], clock: Clock, status: int, fate: str
) -> None:
    with running(Gateway(fail_first=1, fail_status=status)) as gateway:
        with sessions() as session:
            queue_pushes(session, 1)
        with Dispatcher(sessions, push_settings(db_url, gateway.url), clock=clock) as dispatcher:
            report = dispatcher.run_batch(1)
    assert (report.dead, report.retried) == ((1, 0) if fate == "dead" else (0, 1))
    (row,) = rows(sessions)
    assert row.status == (OutboxStatus.DEAD if fate == "dead" else OutboxStatus.PENDING)
    assert row.last_error is not None and row.last_error.startswith(f"HTTP {status}")


def test_retry_after_is_honoured_when_longer(
    db_url: str, sessions: sessionmaker[Session], clock: Clock
) -> None:
    gateway = Gateway(fail_first=1, fail_status=429, headers={"Retry-After": "120"})
    with running(gateway), sessions() as session:
        queue_pushes(session, 1)
        with Dispatcher(sessions, push_settings(db_url, gateway.url), clock=clock) as dispatcher:
            assert dispatcher.run_batch(1).retried == 1
    (row,) = rows(sessions)
    assert row.next_attempt_at - clock.now == timedelta(seconds=120)


def test_timeouts_and_refused_connections_are_retried(
    db_url: str, sessions: sessionmaker[Session], clock: Clock, tmp_path: Path
) -> None:
    with sessions() as session:
        queue_pushes(session, 1)
    slow = Gateway(delay_seconds=1.0)
    with running(slow):
        settings = push_settings(db_url, slow.url, push_timeout_seconds=0.1)
        with Dispatcher(sessions, settings, clock=clock) as dispatcher:
            assert dispatcher.run_batch(1).retried == 1
        refused_url = slow.url
    assert "Timeout" in (rows(sessions)[0].last_error or "")
    clock.advance(60)
    with Dispatcher(sessions, push_settings(db_url, refused_url), clock=clock) as dispatcher:
        assert dispatcher.run_batch(1).retried == 1  # the gateway is gone: nothing listens
    assert "ConnectError" in (rows(sessions)[0].last_error or "")


def test_a_lapsed_lease_passes_the_push_to_another_dispatcher(
    sessions: sessionmaker[Session], clock: Clock
) -> None:
    with sessions() as session:
        queue_pushes(session, 3)
        lease = timedelta(seconds=60)
        first = claim(session, worker="a", limit=10, now=clock.now, lease=lease)
        assert len(first) == 3
        assert claim(session, worker="b", limit=10, now=clock.now + lease / 2, lease=lease) == []
        again = claim(session, worker="b", limit=10, now=clock.now + 2 * lease, lease=lease)
        assert [m.id for m in again] == [m.id for m in first]
        assert [m.attempts for m in again] == [2, 2, 2]  # a claim counts as an attempt
        assert mark_delivered(session, message_ids=[first[0].id], worker="a", now=clock.now) == 0
        assert mark_delivered(session, message_ids=[first[0].id], worker="b", now=clock.now) == 1
        session.commit()
        assert depth(session) == 2


def test_a_dispatcher_needs_a_gateway(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(InvalidRequestError, match="POWERHALL_PUSH_WEBHOOK_URL"):
        Dispatcher(sessions, push_settings("sqlite://", ""))


def test_two_dispatchers_never_deliver_the_same_push(any_db: str, gateway: Gateway) -> None:
    """Each dispatcher has its own engine, as two processes would; no failures and no
    lapsed leases, so every push must reach the gateway exactly once."""
    gateway.delay_seconds = 0.01
    engines = [make_engine(any_db) for _ in range(2)]
    with session_factory(engines[0])() as session:
        keys = queue_pushes(session, 150)
    settings = push_settings(any_db, gateway.url, push_concurrency=4)
    reports = []

    def work(engine_index: int) -> None:
        with Dispatcher(session_factory(engines[engine_index]), settings) as dispatcher:
            reports.append(dispatcher.drain(10))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for engine in engines:
        engine.dispose()
    assert gateway.total_requests == len(keys)
    assert set(gateway.applied) == set(keys) and not gateway.repeats
    assert sum(r.delivered for r in reports) == len(keys)
    assert all(r.claimed > 0 for r in reports)  # both took part


def test_the_worker_outlives_a_database_outage(
    db_url: str, sessions: sessionmaker[Session], gateway: Gateway, clock: Clock
) -> None:
    with sessions() as session:
        queue_pushes(session, 3)
    engine = sessions.kw["bind"]
    outages = [OperationalError("UPDATE outbox", {}, ConnectionError("server closed"))]

    def fail_once(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("UPDATE outbox") and outages:
            raise outages.pop()

    event.listen(engine, "before_cursor_execute", fail_once)
    stop = threading.Event()
    with Dispatcher(sessions, push_settings(db_url, gateway.url), clock=clock) as dispatcher:
        total = dispatcher.run_forever(10, 0.01, stop, on_batch=lambda _: stop.set())
    event.remove(engine, "before_cursor_execute", fail_once)
    assert not outages  # the claim failed once...
    assert total.delivered == 3  # ...and the worker went on
