"""The app push gateway is down for a while under a running dispatcher, first refusing
connections, then answering 503: the outbox grows and retries back off; when the gateway
is back the dispatcher drains the outbox, each push applied exactly once.

"A minute" of outage is compressed to a few seconds by the backoff settings, on the
dispatcher's real clock (the dispatcher tests move a fake one instead).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from powerhall.settings import Settings
from serving.db.engine import make_engine, session_factory
from serving.push.dispatcher import Dispatcher
from serving.push.outbox import OutboxStatusReport, status_report
from serving.push.tables import OutboxMessage, OutboxStatus
from tests.serving.faults.conftest import free_port
from tests.serving.push.conftest import any_db  # noqa: F401  (fixture reused)
from tests.serving.push.factories import queue_pushes
from tests.serving.push.gateway import Gateway, running

WAIT_S = 30.0
"""Longest wait for the dispatcher to reach a state; it gets there in about a second."""


def _settings(database_url: str, gateway_url: str) -> Settings:
    """Backoff from 0.05 s doubling to 0.4 s: the outage's retries in a few seconds, and
    enough attempts that nothing reaches the dead letters while the gateway is away."""
    return Settings(
        data_dir=Path("unused"),
        database_url=database_url,
        push_webhook_url=gateway_url,
        push_backoff_base_seconds=0.05,
        push_backoff_cap_seconds=0.4,
        push_max_attempts=1_000,
        push_timeout_seconds=2.0,
        push_lease_seconds=10.0,
    )


@contextmanager
def dispatching(dispatcher: Dispatcher) -> Iterator[None]:
    """`run_forever` in a thread (as `powerhall push dispatch` runs), stopped at the end."""
    stop = threading.Event()
    worker = threading.Thread(target=dispatcher.run_forever, args=(50, 0.02, stop))
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join(WAIT_S)


def wait_for(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"still not {what} after {WAIT_S:.0f} s"
        time.sleep(0.02)


def _status(sessions: sessionmaker[Session]) -> OutboxStatusReport:
    with sessions() as session:
        return status_report(session)


def _waiting(report: OutboxStatusReport) -> int:
    return report.by_status[OutboxStatus.PENDING] + report.by_status[OutboxStatus.SENDING]


def _rows(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _all_failed(sessions: sessionmaker[Session], error: str, attempts: int) -> Callable[[], bool]:
    """Every push has been tried at least `attempts` times, the last failing with `error`.

    Only settled pushes count: a claimed one (`sending`) has its attempt counted already
    but still shows the error of the attempt before."""

    def check() -> bool:
        return all(
            r.status == OutboxStatus.PENDING
            and r.attempts >= attempts
            and error in (r.last_error or "")
            for r in _rows(sessions)
        )

    return check


def test_an_outage_of_the_gateway_is_drained_once_it_is_back(any_db: str) -> None:  # noqa: F811
    port = free_port()
    gateway = Gateway()
    engine = make_engine(any_db)
    sessions = session_factory(engine)
    settings = _settings(any_db, f"http://127.0.0.1:{port}/push")
    try:
        with Dispatcher(sessions, settings) as dispatcher, dispatching(dispatcher):
            # Nothing listens on the port: every delivery is refused.
            with sessions() as session:
                keys = queue_pushes(session, 15)
            wait_for("refused twice", _all_failed(sessions, "ConnectError", 2))
            refused = _status(sessions)
            with sessions() as session:
                keys += queue_pushes(session, 15)
            wait_for("refused again", _all_failed(sessions, "ConnectError", 2))
            grown = _status(sessions)

            gateway.down = True  # it answers again, 503 to everything
            with running(gateway, port=port):
                wait_for("answered 503", _all_failed(sessions, "HTTP 503", 3))
                unavailable = _status(sessions)
                assert not gateway.applied

                gateway.down = False  # back
                wait_for("drained", lambda: _waiting(_status(sessions)) == 0)
                drained = _status(sessions)
    finally:
        engine.dispose()

    assert (_waiting(refused), _waiting(grown), _waiting(unavailable)) == (15, 30, 30)
    assert all(r.by_status[OutboxStatus.DELIVERED] == 0 for r in (refused, grown, unavailable))
    assert drained.by_status[OutboxStatus.DELIVERED] == 30
    assert (drained.by_status[OutboxStatus.DEAD], drained.dead_letters) == (0, 0)
    assert drained.oldest_waiting is None
    assert set(gateway.applied) == set(keys) and len(keys) == 30
    assert not gateway.repeats, "a push was delivered more than once"
    rows = _rows(sessions)
    assert all(r.delivered_at is not None and r.last_error is None for r in rows)
    for row in rows:  # refused at least twice, then 503 at least once, then delivered
        requests = gateway.requests[row.idempotency_key]
        assert 2 <= requests <= row.attempts - 2, (requests, row.attempts)
