"""The Redis online store fails under a serving app: killed, then restarted and reloaded;
stopped (the port open, nothing answering), then resumed. Answers stay 200, say they are
degraded while it is away, and recover without restarting the app."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from powerhall.settings import Settings
from serving.main import create_app
from tests.features.lake import World
from tests.serving.conftest import Keys
from tests.serving.faults.conftest import RedisServer, load_online_store

pytestmark = pytest.mark.redis


def _ask(client: TestClient, keys: Keys, customer_id: str) -> dict[str, Any]:
    response = client.get(
        f"/v1/customers/{customer_id}/suggestions?channel=app", headers=Keys.header(keys.app)
    )
    assert response.status_code == 200, response.text
    return response.json()


def _online_store(client: TestClient) -> str:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text  # degraded, never out of service
    return response.json()["checks"]["online_store"]


def test_a_killed_redis_degrades_answers_until_it_is_back_and_reloaded(
    redis_settings: Settings,
    redis_server: RedisServer,
    keys: Keys,
    tracking_uri: str,
    serving_world: World,
) -> None:
    customer_id = serving_world.customers[0]
    with TestClient(create_app(redis_settings, tracking_uri=tracking_uri)) as client:
        served = _ask(client, keys, customer_id)
        assert (served["degraded"], served["cold_start"]) == (False, False)
        assert served["profile_summary"]["profile"] == "customer"
        assert _online_store(client) == "ok"

        redis_server.kill()
        for _ in range(3):  # every request while it is down, not just the first
            down = _ask(client, keys, customer_id)
            assert down["degraded"] is True
            assert down["profile_summary"]["profile"] == "unavailable"
            assert down["suggestions"], "segment defaults still suggest something"
        assert _online_store(client) == "unreachable"
        event = client.post(
            "/v1/events",
            json={
                "event_id": "E-redis-down",
                "customer_id": customer_id,
                "kind": "outage",
                "ts": "2026-03-01T08:30:00+08:00",
            },
            headers=Keys.header(keys.admin),
        )
        assert event.status_code == 200, event.text
        assert (event.json()["stored"], event.json()["pushed"]) == (True, False)

        redis_server.start()  # same port, empty: a cold start until it is reloaded
        empty = _ask(client, keys, customer_id)
        assert (empty["degraded"], empty["cold_start"]) == (False, True)
        load_online_store(redis_settings)
        back = _ask(client, keys, customer_id)
        assert (back["degraded"], back["cold_start"]) == (False, False)
        assert back["profile_summary"]["kwh_365d"] == served["profile_summary"]["kwh_365d"]
        assert _online_store(client) == "ok"


@pytest.mark.timeout(60)
def test_a_redis_that_stops_answering_degrades_answers_instead_of_holding_them(
    redis_settings: Settings,
    redis_server: RedisServer,
    keys: Keys,
    tracking_uri: str,
    serving_world: World,
) -> None:
    """A stopped Redis keeps its port open and never answers. With redis-py's defaults
    (5 s per read, 10 retries) a request waited about a minute, so this test timed out;
    the service waits `online_store_timeout_seconds` twice, then degrades."""
    customer_id = serving_world.customers[1]
    with TestClient(create_app(redis_settings, tracking_uri=tracking_uri)) as client:
        assert _ask(client, keys, customer_id)["degraded"] is False
        redis_server.pause()
        try:
            for _ in range(3):
                assert _ask(client, keys, customer_id)["degraded"] is True
            assert _online_store(client) == "unreachable"
        finally:
            redis_server.resume()
        assert _ask(client, keys, customer_id)["degraded"] is False
        assert _online_store(client) == "ok"
