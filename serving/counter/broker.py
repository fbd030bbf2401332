"""Fan-out of counter events: a session posted for a counter reaches every screen of it.

Two brokers behind one interface, chosen by `Settings.counter_fanout`:
- memory: one process's screens hear the sessions posted to that process (one worker);
- redis: Redis pub/sub on `powerhall:counter:<hall>:<counter>`, so that a session posted
  to one API worker reaches a screen connected to another.

A screen's stream is an async iterator of JSON payloads that ends when the broker drops
it (a screen too slow to keep up); the browser's EventSource then reconnects.
"""

from __future__ import annotations

import asyncio
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Final

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from powerhall.settings import Settings

logger = logging.getLogger(__name__)

Payload = dict[str, Any]
QUEUE_SIZE: Final = 16
"""Events a screen may fall behind before it is dropped (a counter sees a few an hour)."""
SUBSCRIBE_TIMEOUT_SECONDS: Final = 5.0
CHANNEL_PREFIX: Final = "powerhall:counter"


def channel_name(hall_id: str, counter_id: str) -> str:
    return f"{CHANNEL_PREFIX}:{hall_id}:{counter_id}"


class CounterBroker(ABC):
    """Publish a counter's events; subscribe a screen to them."""

    @abstractmethod
    async def publish(self, hall_id: str, counter_id: str, payload: Mapping[str, Any]) -> int:
        """Send `payload` to the counter's screens; returns how many were reached."""

    @abstractmethod
    def subscribe(
        self, hall_id: str, counter_id: str
    ) -> AbstractAsyncContextManager[AsyncIterator[Payload]]:
        """The counter's events from now on, while the context is open."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections at shutdown."""


def _end(queue: asyncio.Queue[Payload | None]) -> None:
    """End a screen's stream; what it had not read yet is lost (it reconnects)."""
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(None)


async def _until_dropped(queue: asyncio.Queue[Payload | None]) -> AsyncIterator[Payload]:
    while (payload := await queue.get()) is not None:
        yield payload


class MemoryBroker(CounterBroker):
    """Screens of this process, each with a bounded queue; a full queue drops its screen
    rather than holding memory for, or slowing, everyone else."""

    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self._queue_size = queue_size
        self._screens: dict[tuple[str, str], set[asyncio.Queue[Payload | None]]] = {}

    def screens(self, hall_id: str, counter_id: str) -> int:
        return len(self._screens.get((hall_id, counter_id), ()))

    async def publish(self, hall_id: str, counter_id: str, payload: Mapping[str, Any]) -> int:
        reached = 0
        for queue in list(self._screens.get((hall_id, counter_id), ())):
            try:
                queue.put_nowait(dict(payload))
                reached += 1
            except asyncio.QueueFull:
                self._drop(hall_id, counter_id, queue)
        return reached

    def _drop(self, hall_id: str, counter_id: str, queue: asyncio.Queue[Payload | None]) -> None:
        logger.warning(
            "counter %s/%s: a screen fell %d events behind and was dropped",
            hall_id,
            counter_id,
            queue.qsize(),
        )
        self._forget(hall_id, counter_id, queue)
        _end(queue)

    def _forget(self, hall_id: str, counter_id: str, queue: asyncio.Queue[Payload | None]) -> None:
        screens = self._screens.get((hall_id, counter_id))
        if screens is None:
            return
        screens.discard(queue)
        if not screens:
            del self._screens[(hall_id, counter_id)]

    @asynccontextmanager
    async def subscribe(
        self, hall_id: str, counter_id: str
    ) -> AsyncIterator[AsyncIterator[Payload]]:
        queue: asyncio.Queue[Payload | None] = asyncio.Queue(self._queue_size)
        self._screens.setdefault((hall_id, counter_id), set()).add(queue)
        try:
            yield _until_dropped(queue)
        finally:
            self._forget(hall_id, counter_id, queue)

    async def close(self) -> None:
        for (hall_id, counter_id), screens in list(self._screens.items()):
            for queue in list(screens):
                self._forget(hall_id, counter_id, queue)
                _end(queue)


async def _messages(pubsub: PubSub) -> AsyncIterator[Payload]:
    async for message in pubsub.listen():
        if message["type"] == "message":
            yield json.loads(message["data"])


class RedisBroker(CounterBroker):
    """Redis pub/sub: every worker's screens hear every worker's sessions. Redis itself
    disconnects a subscriber whose output buffer overflows (the slow-screen rule)."""

    def __init__(self, url: str) -> None:
        self._client: Redis = Redis.from_url(url)

    async def publish(self, hall_id: str, counter_id: str, payload: Mapping[str, Any]) -> int:
        message = json.dumps(payload, ensure_ascii=False)
        try:
            return int(await self._client.publish(channel_name(hall_id, counter_id), message))
        except RedisError as exc:
            logger.warning("counter %s/%s: Redis refused the event: %s", hall_id, counter_id, exc)
            return 0

    @asynccontextmanager
    async def subscribe(
        self, hall_id: str, counter_id: str
    ) -> AsyncIterator[AsyncIterator[Payload]]:
        pubsub = self._client.pubsub()
        try:
            await pubsub.subscribe(channel_name(hall_id, counter_id))
            await _confirmed(pubsub)
            yield _messages(pubsub)
        finally:
            await pubsub.aclose()

    async def close(self) -> None:
        await self._client.aclose()


async def _confirmed(pubsub: PubSub) -> None:
    """Wait for Redis to confirm the subscription, so that a session published right after
    `subscribe` returns is not missed."""
    async with asyncio.timeout(SUBSCRIBE_TIMEOUT_SECONDS):
        while True:
            message = await pubsub.get_message(timeout=SUBSCRIBE_TIMEOUT_SECONDS)
            if message is not None and message["type"] == "subscribe":
                return


def open_broker(settings: Settings) -> CounterBroker:
    if settings.counter_fanout == "redis":
        return RedisBroker(settings.redis_url)
    return MemoryBroker()
