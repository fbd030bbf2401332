"""Posting who is at a counter: validation, scoping, what is stored and answered."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from powerhall.settings import Settings
from serving.db.engine import make_engine, session_factory
from serving.db.tables import AuditEntry, CounterSession, Customer
from tests.features.lake import World
from tests.serving.conftest import HALL, OTHER_HALL, Keys
from tests.serving.counter.conftest import next_event, stream_timeout

SESSIONS = f"/v1/halls/{HALL}/counters/C1/sessions"


@pytest.fixture
def customer(settings: Settings, serving_world: World) -> Customer:
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            row = session.get(Customer, serving_world.customers[0])
            assert row is not None
            return row
    finally:
        engine.dispose()


def _rows(settings: Settings, table: type) -> list:
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            return list(session.scalars(select(table)))
    finally:
        engine.dispose()


def test_a_session_by_customer_id_is_stored_audited_and_answered(
    client: TestClient, keys: Keys, settings: Settings, customer: Customer
) -> None:
    response = client.post(
        SESSIONS,
        json={"customer_id": customer.customer_id, "staff_id": "S07"},
        headers=Keys.header(keys.counter),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["session"]["hall_id"] == HALL
    assert body["session"]["counter_id"] == "C1"
    assert body["session"]["identified_by"] == "customer_id"
    assert body["session"]["staff_id"] == "S07"
    assert body["language"] == "zh-CN"
    answer = body["answer"]
    assert answer["channel"] == "counter"
    assert answer["customer"]["customer_id"] == customer.customer_id
    assert 1 <= len(answer["suggestions"]) <= 3
    if customer.phone:
        assert customer.phone not in response.text
    [stored] = _rows(settings, CounterSession)
    assert (stored.id, stored.customer_id, stored.staff_id) == (
        body["session"]["id"],
        customer.customer_id,
        "S07",
    )
    actions = [(a.customer_id, a.action) for a in _rows(settings, AuditEntry)]
    assert actions == [(customer.customer_id, "counter_session")]


def test_a_session_opens_the_customer_to_the_hall(
    client: TestClient, keys: Keys, customer: Customer
) -> None:
    suggestions = f"/v1/customers/{customer.customer_id}/suggestions"
    assert client.get(suggestions, headers=Keys.header(keys.counter)).status_code == 403
    client.post(
        SESSIONS, json={"customer_id": customer.customer_id}, headers=Keys.header(keys.counter)
    )
    assert client.get(suggestions, headers=Keys.header(keys.counter)).status_code == 200
    assert client.get(suggestions, headers=Keys.header(keys.other_counter)).status_code == 403


def test_a_session_by_account_number(client: TestClient, keys: Keys, customer: Customer) -> None:
    assert customer.account_no is not None
    response = client.post(
        SESSIONS, json={"account_no": customer.account_no}, headers=Keys.header(keys.counter)
    )
    assert response.status_code == 201, response.text
    assert response.json()["session"]["identified_by"] == "account_no"
    assert response.json()["answer"]["customer"]["customer_id"] == customer.customer_id
    assert customer.account_no not in response.text


@pytest.mark.parametrize(
    "body",
    [{}, {"customer_id": "C1", "account_no": "A1"}, {"staff_id": "S1"}, {"customer_id": ""}],
)
def test_exactly_one_identity_is_required(client: TestClient, keys: Keys, body: dict) -> None:
    response = client.post(SESSIONS, json=body, headers=Keys.header(keys.counter))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_a_staff_id_with_separators_is_refused(
    client: TestClient, keys: Keys, customer: Customer
) -> None:
    response = client.post(
        SESSIONS,
        json={"customer_id": customer.customer_id, "staff_id": "S 1"},
        headers=Keys.header(keys.counter),
    )
    assert response.status_code == 422


def test_an_unknown_customer_is_a_clear_404(client: TestClient, keys: Keys) -> None:
    response = client.post(
        SESSIONS, json={"account_no": "0000000000"}, headers=Keys.header(keys.counter)
    )
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "customer_not_found"
    assert "account_no 0000000000" in error["message"]


def test_only_the_halls_counter_keys_and_admins_may_post(
    client: TestClient, keys: Keys, customer: Customer
) -> None:
    body = {"customer_id": customer.customer_id}
    for token in (keys.other_counter, keys.app):
        response = client.post(SESSIONS, json=body, headers=Keys.header(token))
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "wrong_hall"
    assert client.post(SESSIONS, json=body).status_code == 401
    admin = client.post(
        f"/v1/halls/{OTHER_HALL}/counters/C9/sessions", json=body, headers=Keys.header(keys.admin)
    )
    assert admin.status_code == 201


def test_a_session_is_read_again_in_english(
    client: TestClient, keys: Keys, customer: Customer
) -> None:
    posted = client.post(
        SESSIONS, json={"customer_id": customer.customer_id}, headers=Keys.header(keys.counter)
    ).json()
    session_id = posted["session"]["id"]
    english = client.get(
        f"{SESSIONS}/{session_id}", headers=Keys.header(keys.counter) | {"Accept-Language": "en"}
    )
    assert english.status_code == 200
    body = english.json()
    assert body["language"] == "en"
    assert body["session"] == posted["session"]
    ids = [s["suggestion_id"] for s in body["answer"]["suggestions"]]
    assert ids == [s["suggestion_id"] for s in posted["answer"]["suggestions"]]
    assert all(s["title"].isascii() for s in body["answer"]["suggestions"])
    other_counter = client.get(
        f"/v1/halls/{HALL}/counters/C2/sessions/{session_id}", headers=Keys.header(keys.counter)
    )
    assert other_counter.status_code == 404
    assert other_counter.json()["error"]["code"] == "session_not_found"


def test_a_posted_session_reaches_the_counters_screen(
    live_url: str, keys: Keys, customer: Customer
) -> None:
    with (
        httpx.Client(
            base_url=live_url, headers=Keys.header(keys.counter), timeout=stream_timeout()
        ) as http,
        http.stream("GET", f"/v1/halls/{HALL}/counters/C1/stream") as screen,
        http.stream("GET", f"/v1/halls/{HALL}/counters/C2/stream") as neighbour,
    ):
        lines = screen.iter_lines()
        next_event(lines, "ready")
        neighbour_lines = neighbour.iter_lines()
        next_event(neighbour_lines, "ready")
        posted = http.post(SESSIONS, json={"customer_id": customer.customer_id})
        assert posted.status_code == 201
        assert next_event(lines, "session") == posted.json()
