"""The answer recorder, on SQLite and PostgreSQL: `record` returns once the answer is
committed, answers waiting together commit in one transaction, one bad answer fails
alone, and closing writes every answer given before it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import IntegrityError

from serving.audit import audit_row
from serving.auth import Caller, Role, create_key
from serving.db.engine import session_factory
from serving.db.migrate import upgrade
from serving.db.tables import AuditEntry, SuggestionServed
from serving.directory import sync_customers
from serving.recorder import AnswerRecorder, RecorderClosedError
from tests.features.lake import World
from tests.serving.databases import fresh_database

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
WAIT_SECONDS = 30.0
"""How long a test waits for the writer thread to reach a point before it gives up (a
safeguard against hanging, not a timing expectation)."""

Answer = tuple[list[dict[str, Any]], dict[str, Any]]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    serving_world: World,
) -> Iterator[tuple[Engine, Caller]]:
    """A migrated database with the small world's directory, and an admin key's caller."""
    with fresh_database(request, tmp_path_factory) as (url, engine):
        upgrade(url)
        with session_factory(engine)() as session:
            sync_customers(session, serving_world.lake_dir)
            key, _ = create_key(session, role=Role.ADMIN, name="admin", hall_id=None, now=NOW)
        yield engine, Caller(key_id=key.id, name=key.name, role=Role.ADMIN, hall_id=None)


def answer(caller: Caller, customer_id: str, tag: str) -> Answer:
    """Two shown suggestions and the audit row of one answer, as `serve_answer` gives them."""
    served = [
        {
            "suggestion_id": f"{tag}-{rank}",
            "customer_id": customer_id,
            "kind": "tip",
            "item_id": f"tip-{rank}",
            "channel": "app",
            "hall_id": None,
            "counter_id": None,
            "payload": {"rank": rank, "title": "关闭待机电器"},
            "shown_at": NOW,
        }
        for rank in (1, 2)
    ]
    audit = audit_row(
        caller=caller,
        customer_id=customer_id,
        action="suggestions",
        reason="suggestions channel=app",
        path=f"/v1/customers/{customer_id}/suggestions",
        now=NOW,
    )
    return served, audit


def stored(engine: Engine) -> tuple[int, int]:
    """(suggestions_served rows, audit_log rows) committed, read on a connection of its own."""
    with engine.connect() as connection:
        return (
            int(connection.scalar(select(func.count()).select_from(SuggestionServed)) or 0),
            int(connection.scalar(select(func.count()).select_from(AuditEntry)) or 0),
        )


@contextmanager
def writer_held(engine: Engine) -> Iterator[tuple[threading.Event, threading.Event]]:
    """(held, release): the recorder's first batch stops before its INSERT (`held` is set)
    until the test sets `release`, so that the answers given meanwhile wait together."""
    held, release = threading.Event(), threading.Event()

    def hook(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO suggestions_served") and not release.is_set():
            held.set()
            release.wait(WAIT_SECONDS)

    event.listen(engine, "before_cursor_execute", hook)
    try:
        yield held, release
    finally:
        release.set()
        event.remove(engine, "before_cursor_execute", hook)


def until(condition: Any) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "the writer never got there"
        time.sleep(0.01)


def test_record_returns_once_the_answer_is_committed(
    database: tuple[Engine, Caller], serving_world: World
) -> None:
    engine, caller = database
    recorder = AnswerRecorder(engine)
    visible: list[int] = []

    def client(n: int) -> None:
        for i in range(5):
            served, audit = answer(caller, serving_world.customers[n % 4], f"c{n}-{i}")
            recorder.record(served, audit)
            with engine.connect() as connection:  # another connection sees only commits
                visible.append(
                    int(
                        connection.scalar(
                            select(func.count()).where(
                                SuggestionServed.suggestion_id == served[0]["suggestion_id"]
                            )
                        )
                        or 0
                    )
                )

    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(client, range(8)))
    finally:
        recorder.close()
    assert visible == [1] * 40
    assert stored(engine) == (80, 40)


def test_answers_waiting_together_commit_in_one_batch_and_close_writes_them(
    database: tuple[Engine, Caller], serving_world: World
) -> None:
    engine, caller = database
    recorder = AnswerRecorder(engine)
    customers = serving_world.customers
    with writer_held(engine) as (held, release), ThreadPoolExecutor(8) as pool:
        first = pool.submit(recorder.record, *answer(caller, customers[0], "first"))
        assert held.wait(WAIT_SECONDS)
        waiting = [
            pool.submit(recorder.record, *answer(caller, customers[i % 4], f"w{i}"))
            for i in range(5)
        ]
        until(lambda: recorder.pending == 5)
        closing = pool.submit(recorder.close)  # the app stops while answers wait
        release.set()
        closing.result()
        for done in (first, *waiting):
            done.result()
    assert recorder.batches == 2  # the first answer alone, then the five that waited
    assert stored(engine) == (12, 6)
    with pytest.raises(RecorderClosedError):
        recorder.record(*answer(caller, customers[0], "late"))
    recorder.close()  # twice is harmless


def test_an_answer_that_breaks_a_constraint_fails_alone(
    database: tuple[Engine, Caller], serving_world: World
) -> None:
    engine, caller = database
    recorder = AnswerRecorder(engine)
    customers = serving_world.customers
    try:
        with writer_held(engine) as (held, release), ThreadPoolExecutor(4) as pool:
            first = pool.submit(recorder.record, *answer(caller, customers[0], "first"))
            assert held.wait(WAIT_SECONDS)
            good: list[Future[None]] = [
                pool.submit(recorder.record, *answer(caller, customers[1], "good-1")),
                pool.submit(recorder.record, *answer(caller, customers[2], "good-2")),
            ]
            bad = pool.submit(recorder.record, *answer(caller, "C-NOT-IN-DIRECTORY", "bad"))
            until(lambda: recorder.pending == 3)
            release.set()
            for done in (first, *good):
                done.result()
            with pytest.raises(IntegrityError):
                bad.result()
    finally:
        recorder.close()
    assert stored(engine) == (6, 3)
