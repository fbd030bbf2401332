"""GET /v1/customers/{id}/suggestions and /inbox: roles, masking, audit, shown rows."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from powerhall.settings import Settings
from serving.api.deps import _now
from serving.db.engine import make_engine, session_factory
from serving.db.tables import AuditEntry, SuggestionServed
from tests.features.lake import World
from tests.serving.conftest import Keys
from tests.serving.counter.conftest import serve
from tests.serving.support import metric_value

CUSTOMER = "C0000"
RAW_PHONE = re.compile(r"1\d{10}")


def _rows(settings: Settings, table: type) -> list:
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        rows = list(session.scalars(select(table)))
    engine.dispose()
    return rows


def test_admin_reads_ranked_suggestions_with_masked_identity(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    response = client.get(
        f"/v1/customers/{CUSTOMER}/suggestions",
        params={"channel": "counter", "limit": 3},
        headers=Keys.header(keys.admin),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["customer"]["phone"] == "138****0000"
    assert body["customer"]["account_no"] == "*****0000"
    assert not RAW_PHONE.search(json.dumps(body))
    assert body["channel"] == "counter"
    assert 1 <= len(body["suggestions"]) <= 3
    assert [s["rank"] for s in body["suggestions"]] == list(range(1, len(body["suggestions"]) + 1))
    assert body["degraded"] is False and body["cold_start"] is False
    served = _rows(settings, SuggestionServed)
    assert {row.suggestion_id for row in served} == {
        s["suggestion_id"] for s in body["suggestions"]
    }
    (audit,) = _rows(settings, AuditEntry)
    assert (audit.customer_id, audit.role, audit.action) == (CUSTOMER, "admin", "suggestions")
    assert audit.path == f"/v1/customers/{CUSTOMER}/suggestions"


def test_language_follows_accept_language(client: TestClient, keys: Keys) -> None:
    headers = Keys.header(keys.admin)
    chinese = client.get(f"/v1/customers/{CUSTOMER}/suggestions", headers=headers).json()
    english = client.get(
        f"/v1/customers/{CUSTOMER}/suggestions", headers=headers | {"Accept-Language": "en"}
    ).json()
    assert re.search(r"[\u4e00-\u9fff]", chinese["suggestions"][0]["title"])
    assert not re.search(r"[\u4e00-\u9fff]", json.dumps(english["suggestions"]))


def test_suggestions_served_are_counted_by_kind_and_channel(client: TestClient, keys: Keys) -> None:
    url = f"/v1/customers/{CUSTOMER}/suggestions?channel=app"
    first = client.get(url, headers=Keys.header(keys.app)).json()["suggestions"][0]
    labels = {"kind": first["kind"], "channel": "app"}
    before = metric_value(client, "powerhall_suggestions_served_total", **labels)
    second = client.get(url.replace(CUSTOMER, "C0003"), headers=Keys.header(keys.app)).json()
    kinds = [s["kind"] for s in second["suggestions"]]
    after = metric_value(client, "powerhall_suggestions_served_total", **labels)
    assert after == before + kinds.count(first["kind"])


def test_unknown_customer_is_404(client: TestClient, keys: Keys) -> None:
    response = client.get("/v1/customers/NOPE/suggestions", headers=Keys.header(keys.admin))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "customer_not_found"


def test_bad_parameters_are_422(client: TestClient, keys: Keys) -> None:
    for params in ({"channel": "fax"}, {"limit": 0}, {"limit": 99}):
        response = client.get(
            f"/v1/customers/{CUSTOMER}/suggestions", params=params, headers=Keys.header(keys.admin)
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"
        assert response.json()["error"]["details"]


def test_no_key_is_401(client: TestClient) -> None:
    response = client.get(f"/v1/customers/{CUSTOMER}/suggestions")
    assert response.status_code == 401


def test_app_key_cannot_use_the_counter_channel(client: TestClient, keys: Keys) -> None:
    response = client.get(
        f"/v1/customers/{CUSTOMER}/suggestions?channel=counter", headers=Keys.header(keys.app)
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "channel_not_allowed"


def test_counter_key_sees_only_customers_identified_in_its_hall_recently(
    client: TestClient, keys: Keys, identify: Callable[..., None]
) -> None:
    url = f"/v1/customers/{CUSTOMER}/suggestions?channel=counter"
    not_yet = client.get(url, headers=Keys.header(keys.counter))
    assert not_yet.status_code == 403
    assert not_yet.json()["error"]["code"] == "not_identified_here"

    identify(CUSTOMER, at=datetime.now(UTC) - timedelta(minutes=45))
    assert client.get(url, headers=Keys.header(keys.counter)).status_code == 403

    identify(CUSTOMER)
    assert client.get(url, headers=Keys.header(keys.counter)).status_code == 200
    other_hall = client.get(url, headers=Keys.header(keys.other_counter))
    assert other_hall.status_code == 403
    assert other_hall.json()["error"]["code"] == "not_identified_here"
    app_channel = client.get(url.replace("counter", "app"), headers=Keys.header(keys.counter))
    assert app_channel.status_code == 403


def test_the_session_window_follows_the_clock(
    app: object, client: TestClient, keys: Keys, identify: Callable[..., None]
) -> None:
    identify(CUSTOMER)
    url = f"/v1/customers/{CUSTOMER}/suggestions?channel=counter"
    assert client.get(url, headers=Keys.header(keys.counter)).status_code == 200
    later = datetime.now(UTC) + timedelta(minutes=31)
    client.app.dependency_overrides[_now] = lambda: later
    assert client.get(url, headers=Keys.header(keys.counter)).status_code == 403


def test_inbox_lists_unanswered_app_suggestions_newest_first(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    response = client.get(f"/v1/customers/{CUSTOMER}/inbox", headers=Keys.header(keys.app))
    assert response.status_code == 200
    body = response.json()
    assert body["customer"]["phone"] == "138****0000"
    assert not RAW_PHONE.search(json.dumps(body))
    items = body["items"]
    assert items
    shown = [item["shown_at"] for item in items]
    assert shown == sorted(shown, reverse=True)
    answered = items[0]["suggestion_id"]
    feedback = client.post(
        f"/v1/suggestions/{answered}/feedback",
        json={"outcome": "dismissed"},
        headers=Keys.header(keys.app) | {"Idempotency-Key": "inbox-1"},
    )
    assert feedback.status_code == 200
    again = client.get(f"/v1/customers/{CUSTOMER}/inbox", headers=Keys.header(keys.app)).json()
    assert answered not in {item["suggestion_id"] for item in again["items"]}
    assert [a.action for a in _rows(settings, AuditEntry)] == ["inbox", "inbox"]


def test_counter_key_has_no_inbox(client: TestClient, keys: Keys) -> None:
    response = client.get(f"/v1/customers/{CUSTOMER}/inbox", headers=Keys.header(keys.counter))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_not_allowed"


class _UnreachableStore:
    """An online store whose every read fails, as Redis does when it is down."""

    def get(self, customer_id: str, *, at: datetime | None = None) -> None:
        raise ConnectionError("online store unreachable")


def test_an_unreachable_online_store_degrades_the_answer(client: TestClient, keys: Keys) -> None:
    client.app.state.profiles = _UnreachableStore()
    url = f"/v1/customers/{CUSTOMER}/suggestions?channel=counter"
    client.get(url, headers=Keys.header(keys.admin))  # the degraded series exists from here
    before = metric_value(client, "powerhall_degraded_answers_total", channel="counter")
    response = client.get(url, headers=Keys.header(keys.admin))
    assert response.status_code == 200
    assert response.json()["degraded"] is True
    assert response.json()["suggestions"]
    assert metric_value(client, "powerhall_degraded_answers_total", channel="counter") == before + 1


def test_the_next_answer_does_not_repeat_what_was_shown(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    """Answers are recorded by the batching recorder: the very next request reads them."""
    url = f"/v1/customers/{CUSTOMER}/suggestions?channel=counter"
    today = datetime.now(UTC)
    client.app.dependency_overrides[_now] = lambda: today
    first = client.get(url, headers=Keys.header(keys.admin)).json()
    assert first["suggestions"]
    client.app.dependency_overrides[_now] = lambda: today + timedelta(days=1)  # past the visit
    second = client.get(url, headers=Keys.header(keys.admin)).json()
    items = {(s["kind"], s["item_id"]) for s in first["suggestions"]}
    assert not items & {(s["kind"], s["item_id"]) for s in second["suggestions"]}
    assert second["excluded"]["recently_shown"] >= 1
    assert len(_rows(settings, AuditEntry)) == 2


def test_more_requests_in_flight_than_connections_and_threads_all_answer(
    app: FastAPI, keys: Keys, settings: Settings, serving_world: World
) -> None:
    """100 requests at once: more than the pool's connections (50 on SQLite) and the 40
    worker threads together. A request that kept its key check's connection while waiting
    for a thread would leave threads waiting for connections until the pool's timeout
    (503); every request is answered and recorded."""
    in_flight = 100

    async def ask_all(url: str) -> list[int]:
        limits = httpx.Limits(max_connections=in_flight)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as http:
            responses = await asyncio.gather(
                *(
                    http.get(
                        f"/v1/customers/{serving_world.customers[i % 8]}/suggestions",
                        headers=Keys.header(keys.admin),
                    )
                    for i in range(in_flight)
                )
            )
        return [r.status_code for r in responses]

    with serve(app) as url:
        statuses = asyncio.run(ask_all(url))
    assert statuses == [200] * in_flight
    assert len(_rows(settings, AuditEntry)) == in_flight
