from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from powerhall.settings import Settings
from serving.db.engine import make_engine
from serving.main import create_app
from tests.serving.support import metric_value


def test_healthz_answers_without_a_key(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_ready_with_the_database_at_head(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "online_store": "ok",
    }


def test_readyz_refuses_while_migrations_are_pending(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
    engine.dispose()
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "not_ready"
    assert response.json()["error"]["details"][0]["migrations"] == "pending"


def test_metrics_expose_request_latency_by_route_template(client: TestClient) -> None:
    labels = {"route": "/healthz", "method": "GET", "status": "200"}
    client.get("/healthz")
    before = metric_value(client, "powerhall_request_seconds_count", **labels)
    client.get("/healthz")
    assert metric_value(client, "powerhall_request_seconds_count", **labels) == before + 1


def test_unknown_route_has_the_error_shape(client: TestClient) -> None:
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"status": 404, "code": "not_found", "message": "Not Found", "details": []}
    }
