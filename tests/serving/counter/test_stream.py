"""A counter screen's stream: who may open it, and what it hears."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from powerhall.settings import Settings
from serving.counter.broker import MemoryBroker, RedisBroker
from serving.main import create_app
from tests.serving.conftest import HALL, OTHER_HALL, Keys
from tests.serving.counter.conftest import next_event, serve, stream_timeout


def test_stream_needs_a_key(client: TestClient) -> None:
    response = client.get(f"/v1/halls/{HALL}/counters/C1/stream")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_api_key"


def test_stream_of_another_hall_is_forbidden(client: TestClient, keys: Keys) -> None:
    response = client.get(
        f"/v1/halls/{OTHER_HALL}/counters/C1/stream", headers=Keys.header(keys.counter)
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "wrong_hall"


@pytest.mark.redis
def test_an_event_published_by_another_worker_reaches_the_screen(
    settings: Settings, keys: Keys, redis_url: str
) -> None:
    """With Redis fan-out, a session published by any worker (here: a broker of our own,
    as another worker's would be) reaches the screen connected to this one."""
    hall_app = create_app(
        settings.model_copy(update={"counter_fanout": "redis", "redis_url": redis_url})
    )
    counter = f"C{uuid.uuid4().hex[:8]}"
    payload = {"session": {"id": 7}, "language": "en", "answer": {"suggestions": []}}

    async def publish() -> int:
        broker = RedisBroker(redis_url)
        try:
            return await broker.publish(HALL, counter, payload)
        finally:
            await broker.close()

    with (
        serve(hall_app) as url,
        httpx.Client(
            base_url=url, headers=Keys.header(keys.counter), timeout=stream_timeout()
        ) as http,
        http.stream("GET", f"/v1/halls/{HALL}/counters/{counter}/stream") as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next_event(lines, "ready") == {"hall_id": HALL, "counter_id": counter}
        assert asyncio.run(publish()) == 1
        assert next_event(lines, "session") == payload


def test_a_closed_screen_is_unsubscribed(app: FastAPI, live_url: str, keys: Keys) -> None:
    broker = app.state.counter_broker
    assert isinstance(broker, MemoryBroker)
    with (
        httpx.Client(
            base_url=live_url, headers=Keys.header(keys.counter), timeout=stream_timeout()
        ) as http,
        http.stream("GET", f"/v1/halls/{HALL}/counters/C1/stream") as response,
    ):
        lines = response.iter_lines()
        next_event(lines, "ready")
        assert _screens_settle(broker, 1) == 1
    assert _screens_settle(broker, 0) == 0


def _screens_settle(broker: MemoryBroker, expected: int) -> int:
    """The counter's screens once they reach `expected`, or after 30 s: the server runs in
    another thread, and a loaded machine subscribes and notices a close late."""
    deadline = time.monotonic() + 30
    while broker.screens(HALL, "C1") != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return broker.screens(HALL, "C1")
