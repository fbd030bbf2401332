"""ASGI middleware: request timing for the latency histogram, and the request body limit."""

from __future__ import annotations

import time
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.errors import api_error, error_response
from serving.metrics import ServiceMetrics


class RequestTiming:
    """Observe every HTTP request by its route template (`/v1/customers/{customer_id}/…`),
    never the raw path, so that customer ids do not become label values."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()
        observed = False

        def observe() -> None:
            nonlocal observed
            observed = True
            route = scope.get("route")
            self.metrics.request_seconds.labels(
                route=getattr(route, "path", "unmatched"),
                method=scope["method"],
                status=str(status),
            ).observe(time.perf_counter() - started)

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                observe()  # before the last byte leaves: a client never outruns its metric
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            if not observed:
                observe()


class BodySizeLimit:
    """413 in the API's error shape for a body over `max_bytes`.

    A declared Content-Length is refused before the app runs; a body streamed without
    one is counted as it is read, and the route's body parsing raises the 413.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})
        """Path (without the root path) -> its own limit: routes that take bulk data."""

    def _limit(self, scope: Scope) -> int:
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        return self.larger.get(path.removeprefix(root) if root else path, self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        too_large = f"the request body is larger than {limit} bytes"
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = error_response(413, "payload_too_large", too_large)
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise api_error(413, "payload_too_large", too_large)
            return message

        await self.app(scope, counted, send)
