"""A real push gateway for the tests: an HTTP server on a free local port, in a thread.

Like a real gateway it applies a push once per `Idempotency-Key` and answers a repeat
with 200 without applying it again. It can fail the first tries of every key, be down
for a while (every request failed), answer slowly, and hang on one request after
applying it (a push delivered while the dispatcher is killed, so never marked as
delivered). Served again on the same port, it keeps what it applied (a restart).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Gateway:
    fail_first: int = 0
    """Tries of each key answered with `fail_status` before one succeeds."""
    fail_status: int = 503
    fail_keys: set[str] = field(default_factory=set)
    """Keys answered with `fail_status` every time."""
    down: bool = False
    """While set, every request is answered with `fail_status` (an outage)."""
    delay_seconds: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    """Sent with every failure (e.g. Retry-After)."""
    hang_on: int | None = None
    """Applied push number (1-based) whose answer waits for `release`."""
    hung_key: str | None = None
    url: str = ""
    requests: Counter[str] = field(default_factory=Counter)
    """Requests per idempotency key, failed and repeated ones included."""
    applied: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Key -> body, once per key: the effect the app's users see."""
    repeats: Counter[str] = field(default_factory=Counter)
    """Requests for a key already applied (dropped by the idempotency key)."""
    hanging: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, key: str, body: dict[str, Any]) -> tuple[int, bool]:
        """(status, hang) for one request, recorded under the lock."""
        with self.lock:
            self.requests[key] += 1
            if self.down or key in self.fail_keys or self.requests[key] <= self.fail_first:
                return self.fail_status, False
            if key in self.applied:
                self.repeats[key] += 1
                return 200, False
            self.applied[key] = body
            if self.hang_on is not None and len(self.applied) == self.hang_on:
                self.hung_key = key
                return 200, True
            return 200, False

    @property
    def total_requests(self) -> int:
        with self.lock:
            return sum(self.requests.values())


def _handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = self.headers.get("Idempotency-Key")
            if gateway.delay_seconds:
                time.sleep(gateway.delay_seconds)
            if not key:
                status, hang = 400, False
            else:
                status, hang = gateway.answer(key, body)
            if hang:
                gateway.hanging.set()
                gateway.release.wait(30)
            self.send_response(status)
            for name, value in (gateway.headers if status != 200 else {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: pytest shows failures, not every request."""

    return Handler


@contextmanager
def running(gateway: Gateway, port: int = 0) -> Iterator[Gateway]:
    """Serve `gateway` on 127.0.0.1 at `port` (0: a free one; `gateway.url`) until the
    block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(gateway))
    server.daemon_threads = True
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}/push"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        gateway.release.set()
        server.shutdown()
        server.server_close()
