"""The body size limit answers 413 in the one error shape, declared or streamed."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient

from powerhall.settings import Settings
from serving.main import create_app
from tests.serving.conftest import Keys


def test_oversized_bodies_are_413(settings: Settings, tracking_uri: str, keys: Keys) -> None:
    small = settings.model_copy(update={"max_body_bytes": 256})
    body = b'{"event_id": "' + b"x" * 400 + b'"}'

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield body[:200]
        yield body[200:]

    headers = Keys.header(keys.admin) | {"Content-Type": "application/json"}
    with TestClient(create_app(small, tracking_uri=tracking_uri)) as client:
        declared = client.post("/v1/events", content=body, headers=headers)
        streamed = client.post("/v1/events", content=chunks(), headers=headers)
        fits = client.post("/v1/events", json={"event_id": "x"}, headers=Keys.header(keys.admin))
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "payload_too_large"
    assert fits.status_code == 422
