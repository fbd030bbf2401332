"""POST /v1/events: stored once, pushed online, visible in the next answer."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from powerhall.settings import Settings
from serving.db.engine import make_engine, session_factory
from serving.db.tables import Event
from tests.serving.conftest import Keys

CUSTOMER = "C0002"


def _event(event_id: str, kind: str = "outage", customer: str = CUSTOMER) -> dict[str, str]:
    return {
        "event_id": event_id,
        "customer_id": customer,
        "kind": kind,
        "ts": datetime.now(UTC).isoformat(),
    }


def test_an_outage_puts_service_recovery_first_on_the_counter(
    client: TestClient, keys: Keys
) -> None:
    url = f"/v1/customers/{CUSTOMER}/suggestions?channel=counter"
    before = client.get(url, headers=Keys.header(keys.admin)).json()
    assert "service_recovery" not in {s["kind"] for s in before["suggestions"]}
    response = client.post("/v1/events", json=_event("E-1"), headers=Keys.header(keys.admin))
    assert response.status_code == 200
    assert response.json() == {"event_id": "E-1", "stored": True, "pushed": True}
    after = client.get(url, headers=Keys.header(keys.admin)).json()
    assert after["suggestions"][0]["kind"] == "service_recovery"
    assert after["profile_summary"]["days_since_last_outage"] < 1


def test_an_event_id_is_stored_once(client: TestClient, keys: Keys, settings: Settings) -> None:
    headers = Keys.header(keys.admin)
    assert client.post("/v1/events", json=_event("E-2"), headers=headers).json()["stored"]
    again = client.post("/v1/events", json=_event("E-2"), headers=headers)
    assert again.status_code == 200
    assert again.json() == {"event_id": "E-2", "stored": False, "pushed": False}
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 1
    engine.dispose()


def test_event_rules(client: TestClient, keys: Keys) -> None:
    app_key, admin = Keys.header(keys.app), Keys.header(keys.admin)
    assert client.post("/v1/events", json=_event("E-3", "app_login"), headers=app_key).is_success
    assert client.post("/v1/events", json=_event("E-4"), headers=app_key).status_code == 403
    counter = client.post("/v1/events", json=_event("E-5"), headers=Keys.header(keys.counter))
    assert counter.status_code == 403
    payment = client.post("/v1/events", json=_event("E-6", "payment"), headers=admin)
    assert payment.status_code == 422
    assert payment.json()["error"]["code"] == "event_kind_not_pushed"
    unknown = client.post("/v1/events", json=_event("E-7", customer="NOPE"), headers=admin)
    assert unknown.status_code == 404
    naive = _event("E-8") | {"ts": "2026-03-01T08:00:00"}
    assert client.post("/v1/events", json=naive, headers=admin).status_code == 422
    assert client.post("/v1/events", json={"event_id": "x"}, headers=admin).status_code == 422
