from __future__ import annotations

from fastapi.testclient import TestClient

from tests.serving.conftest import Keys


def test_reload_returns_the_versions_in_use(client: TestClient, keys: Keys) -> None:
    response = client.post("/v1/admin/models/reload", headers=Keys.header(keys.admin))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"model_versions", "loaded", "failed"}
    assert body["model_versions"] == client.app.state.suggester.model_versions


def test_only_admin_keys_reload(client: TestClient, keys: Keys) -> None:
    for token in (keys.app, keys.counter):
        response = client.post("/v1/admin/models/reload", headers=Keys.header(token))
        assert response.status_code == 403
