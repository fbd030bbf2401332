"""`powerhall demo` prepares a service whose printed keys and customers really work."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from powerhall.settings import Settings
from serving.auth import find_caller
from serving.db.engine import make_engine, session_factory
from serving.demo import prepare
from serving.main import create_app


def test_prepare_replaces_demo_keys_and_they_open_the_api(
    settings: Settings, tracking_uri: str
) -> None:
    first = prepare(settings, datetime.now(UTC))
    second = prepare(settings, datetime.now(UTC))

    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        assert find_caller(session, first.admin) is None, "an earlier demo key stays revoked"
        counter = find_caller(session, second.counter)
        assert counter is not None and counter.hall_id == second.hall_id
    engine.dispose()

    with TestClient(create_app(settings, tracking_uri=tracking_uri)) as client:
        answer = client.get(
            f"/v1/customers/{second.app_customer_id}/suggestions",
            params={"channel": "app"},
            headers={"X-API-Key": second.app},
        )
        assert answer.status_code == 200, answer.text
        session = client.post(
            f"/v1/halls/{second.hall_id}/counters/1/sessions",
            json={"customer_id": second.customer_id},
            headers={"X-API-Key": second.counter},
        )
        assert session.status_code == 201, session.text
