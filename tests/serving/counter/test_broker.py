"""Both brokers against the same expectations; the Redis one on a real Redis."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator

import pytest

from powerhall.settings import Settings
from serving.counter.broker import (
    CounterBroker,
    MemoryBroker,
    RedisBroker,
    channel_name,
    open_broker,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[CounterBroker]:
    if request.param == "redis":
        broker: CounterBroker = RedisBroker(request.getfixturevalue("redis_url"))
    else:
        broker = MemoryBroker()
    yield broker
    await broker.close()


def _hall() -> str:
    """A hall of its own per test: a shared Redis may hold other tests' subscribers."""
    return f"H-{uuid.uuid4().hex[:8]}"


async def _next(events: AsyncIterator[dict[str, object]]) -> dict[str, object]:
    return await asyncio.wait_for(anext(events), timeout=5)


async def test_screens_of_the_counter_receive_its_events(broker: CounterBroker) -> None:
    hall = _hall()
    async with broker.subscribe(hall, "C1") as first, broker.subscribe(hall, "C1") as second:
        reached = await broker.publish(hall, "C1", {"session": {"id": 1}, "text": "您好"})
        assert reached == 2
        assert await _next(first) == {"session": {"id": 1}, "text": "您好"}
        assert await _next(second) == {"session": {"id": 1}, "text": "您好"}


async def test_other_counters_hear_nothing(broker: CounterBroker) -> None:
    hall = _hall()
    async with broker.subscribe(hall, "C2") as other, broker.subscribe(hall, "C1") as mine:
        assert await broker.publish(hall, "C1", {"n": 1}) == 1
        assert await broker.publish(_hall(), "C2", {"n": 2}) == 0
        assert await _next(mine) == {"n": 1}
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(other), timeout=0.2)


async def test_events_keep_their_order(broker: CounterBroker) -> None:
    hall = _hall()
    async with broker.subscribe(hall, "C1") as events:
        for n in range(5):
            await broker.publish(hall, "C1", {"n": n})
        assert [(await _next(events))["n"] for _ in range(5)] == [0, 1, 2, 3, 4]


async def test_a_closed_subscription_is_forgotten(broker: CounterBroker) -> None:
    hall = _hall()
    async with broker.subscribe(hall, "C1"):
        pass
    assert await broker.publish(hall, "C1", {"n": 1}) == 0


async def test_a_slow_screen_is_dropped_and_others_keep_going(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = MemoryBroker(queue_size=2)
    async with broker.subscribe("H1", "C1") as slow, broker.subscribe("H1", "C1") as fast:
        with caplog.at_level(logging.WARNING, logger="serving.counter.broker"):
            for n in range(2):
                assert await broker.publish("H1", "C1", {"n": n}) == 2
                assert (await _next(fast))["n"] == n
            assert await broker.publish("H1", "C1", {"n": 2}) == 1
        assert "fell 2 events behind and was dropped" in caplog.text
        assert (await _next(fast))["n"] == 2
        assert [event async for event in slow] == []
        assert broker.screens("H1", "C1") == 1


async def test_close_ends_every_stream() -> None:
    broker = MemoryBroker()
    async with broker.subscribe("H1", "C1") as events:
        await broker.close()
        assert [event async for event in events] == []
        assert broker.screens("H1", "C1") == 0


@pytest.mark.redis
async def test_redis_channel_per_counter(redis_url: str) -> None:
    """Another process (here: a plain client) subscribed to the documented channel hears
    the event: the contract between API workers is the channel name and JSON."""
    from redis.asyncio import Redis

    hall = _hall()
    client = Redis.from_url(redis_url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(f"powerhall:counter:{hall}:C9")
    assert channel_name(hall, "C9") == f"powerhall:counter:{hall}:C9"
    broker = RedisBroker(redis_url)
    try:
        assert await broker.publish(hall, "C9", {"customer": "客户"}) == 1
        message = None
        async with asyncio.timeout(5):
            while message is None:
                message = await pubsub.get_message(timeout=1)
        assert message["data"].decode() == '{"customer": "客户"}'
    finally:
        await broker.close()
        await pubsub.aclose()
        await client.aclose()


async def test_unreachable_redis_loses_the_event_not_the_request() -> None:
    broker = RedisBroker("redis://127.0.0.1:1/0")
    try:
        assert await broker.publish("H1", "C1", {"n": 1}) == 0
    finally:
        await broker.close()


def test_settings_choose_the_broker() -> None:
    assert isinstance(open_broker(Settings(counter_fanout="memory")), MemoryBroker)
    assert isinstance(open_broker(Settings(counter_fanout="redis")), RedisBroker)
