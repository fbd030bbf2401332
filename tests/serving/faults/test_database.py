"""The service's database connections drop under a serving app (PostgreSQL backends
terminated, as a failover or an administrator does): requests succeed on fresh connections
or fail with the error shape and 503, never a raw 500, and feedback retried with its
Idempotency-Key is stored exactly once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from powerhall.settings import Settings
from serving.db.engine import SQLITE_BUSY_TIMEOUT_MS, make_engine, session_factory
from serving.db.tables import SuggestionOutcome
from serving.main import create_app
from tests.features.lake import World
from tests.serving.conftest import Keys
from tests.serving.faults.conftest import terminate_backends

OUTCOMES_INSERT = "INSERT INTO suggestion_outcomes"


def _application_name(settings: Settings) -> str:
    return str(make_url(settings.database_url).query["application_name"])


def _server_url(settings: Settings) -> str:
    """The same server without the test's schema and name: the administrator's session."""
    return (
        make_url(settings.database_url)
        .difference_update_query(["options", "application_name"])
        .render_as_string(hide_password=False)
    )


def _terminate(settings: Settings) -> int:
    return terminate_backends(_server_url(settings), _application_name(settings))


@contextmanager
def before_statement(
    app: FastAPI, starts: str, fault: Callable[[], object]
) -> Iterator[list[bool]]:
    """Run `fault()` once, just before the app sends its first statement starting with
    `starts`; yields a list that holds True once it ran."""
    fired: list[bool] = []

    def hook(_connection: Any, _cursor: Any, statement: str, *_context: Any) -> None:
        if not fired and statement.startswith(starts):
            fired.append(True)
            fault()

    engine = app.state.engine
    event.listen(engine, "before_cursor_execute", hook)
    try:
        yield fired
    finally:
        event.remove(engine, "before_cursor_execute", hook)


def _stored(settings: Settings, idempotency_key: str) -> int:
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            return int(
                session.scalar(
                    select(func.count()).where(SuggestionOutcome.idempotency_key == idempotency_key)
                )
                or 0
            )
    finally:
        engine.dispose()


def _shown(client: TestClient, keys: Keys, customer_id: str) -> str:
    response = client.get(
        f"/v1/customers/{customer_id}/suggestions?channel=app", headers=Keys.header(keys.app)
    )
    assert response.status_code == 200, response.text
    return response.json()["suggestions"][0]["suggestion_id"]


def _feedback(client: TestClient, keys: Keys, suggestion_id: str, key: str) -> Response:
    return client.post(
        f"/v1/suggestions/{suggestion_id}/feedback",
        json={"outcome": "accepted"},
        headers=Keys.header(keys.app) | {"Idempotency-Key": key},
    )


def _is_unavailable(response: Response) -> bool:
    """The project's error shape for a database that did not answer."""
    return response.status_code == 503 and response.json()["error"]["code"] == (
        "database_unavailable"
    )


def test_terminated_idle_connections_are_replaced_before_the_next_request(
    postgres_settings: Settings, postgres_keys: Keys, tracking_uri: str, serving_world: World
) -> None:
    app = create_app(postgres_settings, tracking_uri=tracking_uri)
    with TestClient(app) as client:
        for round_, customer_id in enumerate(serving_world.customers[:3]):
            suggestion_id = _shown(client, postgres_keys, customer_id)
            assert _terminate(postgres_settings) >= 1  # the pool's idle connection
            feedback = _feedback(client, postgres_keys, suggestion_id, f"idle-{round_}")
            assert feedback.status_code == 200, feedback.text
            assert _terminate(postgres_settings) >= 1
            assert client.get("/readyz").json()["checks"]["database"] == "ok"
        for round_ in range(3):
            assert _stored(postgres_settings, f"idle-{round_}") == 1


def test_feedback_cut_by_a_dropped_connection_is_a_503_and_its_retry_is_stored_once(
    postgres_settings: Settings, postgres_keys: Keys, tracking_uri: str, serving_world: World
) -> None:
    app = create_app(postgres_settings, tracking_uri=tracking_uri)
    with TestClient(app) as client:
        suggestion_id = _shown(client, postgres_keys, serving_world.customers[0])
        with before_statement(app, OUTCOMES_INSERT, lambda: _terminate(postgres_settings)) as fired:
            cut = _feedback(client, postgres_keys, suggestion_id, "cut-1")
        assert fired, "the connection was dropped mid-request"
        assert _is_unavailable(cut), cut.text
        assert cut.headers["Retry-After"] == "1"
        assert _stored(postgres_settings, "cut-1") == 0  # nothing half-written

        retried = _feedback(client, postgres_keys, suggestion_id, "cut-1")
        assert retried.status_code == 200, retried.text
        again = _feedback(client, postgres_keys, suggestion_id, "cut-1")  # its answer lost
        assert again.json() == retried.json()
        assert _stored(postgres_settings, "cut-1") == 1


def test_feedback_whose_answer_was_lost_is_stored_once_on_a_new_connection(
    postgres_settings: Settings, postgres_keys: Keys, tracking_uri: str, serving_world: World
) -> None:
    """The client saw no answer (its own timeout) although the row was committed; every
    connection then drops, and its retry on a fresh one replays the stored answer."""
    app = create_app(postgres_settings, tracking_uri=tracking_uri)
    with TestClient(app) as client:
        suggestion_id = _shown(client, postgres_keys, serving_world.customers[1])
        first = _feedback(client, postgres_keys, suggestion_id, "lost-1")
        assert first.status_code == 200, first.text
        assert _terminate(postgres_settings) >= 1
        retried = _feedback(client, postgres_keys, suggestion_id, "lost-1")
        assert retried.status_code == 200, retried.text
        assert retried.json()["feedback_id"] == first.json()["feedback_id"]
        assert _stored(postgres_settings, "lost-1") == 1


def _disk_failure() -> None:
    raise OperationalError(OUTCOMES_INSERT, None, Exception("disk I/O error"))


def _bad_statement() -> None:
    raise ProgrammingError(OUTCOMES_INSERT, None, Exception("no such column"))


def test_a_database_error_mid_request_is_a_503_on_sqlite_too(
    app: FastAPI, keys: Keys, settings: Settings, serving_world: World
) -> None:
    """The embedded default: SQLite reports a failing disk or a lock held too long as
    OperationalError, which gets the same 503 (not a 500) and the same safe retry."""
    with TestClient(app) as client:
        suggestion_id = _shown(client, keys, serving_world.customers[2])
        with before_statement(app, OUTCOMES_INSERT, _disk_failure):
            failed = _feedback(client, keys, suggestion_id, "disk-1")
        assert _is_unavailable(failed), failed.text
        assert _feedback(client, keys, suggestion_id, "disk-1").status_code == 200
        assert _stored(settings, "disk-1") == 1


def test_other_database_errors_stay_unexpected(
    app: FastAPI, keys: Keys, serving_world: World
) -> None:
    """Only a database that did not answer is a 503: an error in what was asked of it is
    a bug, answered 500 with nothing internal leaked."""
    with TestClient(app, raise_server_exceptions=False) as client:
        suggestion_id = _shown(client, keys, serving_world.customers[3])
        with before_statement(app, OUTCOMES_INSERT, _bad_statement):
            failed = _feedback(client, keys, suggestion_id, "bug-1")
    assert failed.status_code == 500
    assert failed.json()["error"] == {
        "status": 500,
        "code": "internal_error",
        "message": "the service failed to answer; it is logged",
        "details": [],
    }


def test_a_sqlite_write_waits_for_the_lock_as_long_as_for_a_connection(app: FastAPI) -> None:
    """A soak (64 clients, two busy cores) failed 7 of 5,178 requests with "database is
    locked": writers gave up after SQLite's 5 s busy timeout while the others took the lock
    in turn. A write now waits as long as a request waits for a pooled connection."""
    with TestClient(app):
        engine = app.state.engine
        with engine.connect() as connection:
            busy_ms = connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
    assert busy_ms == SQLITE_BUSY_TIMEOUT_MS
    assert busy_ms / 1000 >= engine.pool.timeout()
