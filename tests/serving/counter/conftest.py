"""The app served by a real uvicorn on a free port, in a thread: server-sent events and
the browser need a real HTTP server (the TestClient buffers whole responses)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

START_TIMEOUT_SECONDS = 60.0


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """The base URL of `app` served on 127.0.0.1, started (lifespan done) and stopped."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture
def live_url(app: FastAPI) -> Iterator[str]:
    with serve(app) as url:
        yield url


def next_event(lines: Iterator[str], name: str) -> dict[str, Any]:
    """The data of the next server-sent event called `name` (others are skipped).

    Keep `lines` referenced while the screen should stay connected: a dropped
    `response.iter_lines()` generator is closed at once, and closing it closes the
    connection (the server then unsubscribes the screen)."""
    event: str | None = None
    data: list[str] = []
    for line in lines:
        if line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").strip())
        elif line == "":
            if event == name:
                return json.loads("\n".join(data))
            event, data = None, []
    raise AssertionError(f"the stream ended before a {name!r} event")


def stream_timeout() -> httpx.Timeout:
    """A read waits at most 10 s: well past an event's second, short of the 15 s ping."""
    return httpx.Timeout(10.0)
