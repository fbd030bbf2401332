"""`POST /v1/campaigns` over HTTP: admin only, dry run, the outbox, the depth metric."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from powerhall.settings import Settings
from serving.api.deps import _now
from serving.db.engine import make_engine, session_factory
from serving.db.tables import SuggestionServed
from serving.push.tables import Campaign, OutboxMessage
from tests.serving.conftest import Keys
from tests.serving.support import metric_value

DAY = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
"""A Monday, 11:00 in Shanghai: outside quiet hours."""


@pytest.fixture
def at_day(app: FastAPI) -> None:
    app.dependency_overrides[_now] = lambda: DAY


def stored(settings: Settings) -> tuple[int, int, int]:
    """Campaigns, outbox rows, served rows."""
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        found = tuple(
            int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (Campaign, OutboxMessage, SuggestionServed)
        )
    engine.dispose()
    return found  # type: ignore[return-value]


def depth_metric(client: TestClient) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("powerhall_outbox_depth "):
            return float(line.split()[1])
    raise AssertionError("no outbox depth in /metrics")


@pytest.mark.usefixtures("at_day")
def test_a_dry_run_plans_and_writes_nothing(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    response = client.post(
        "/v1/campaigns", json={"name": "spring", "dry_run": True}, headers=Keys.header(keys.admin)
    )
    assert response.status_code == 201, response.text
    plan = response.json()
    assert plan["campaign_id"] is None and plan["dry_run"] is True
    assert plan["customers"] == 8 and plan["recipients"] == plan["messages"] > 0
    assert set(plan["excluded"]) >= {"no_consent", "quiet_hours", "weekly_cap", "no_candidate"}
    sample = plan["sample"][0]
    assert sample["customer"].startswith("*") and sample["phone"] == "138****0000"
    assert sample["pushes"][0]["title"]
    assert stored(settings) == (0, 0, 0)


@pytest.mark.usefixtures("at_day")
def test_a_run_queues_the_pushes_and_the_metric_shows_them(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    assert depth_metric(client) == 0
    # The series exists from here on, at what earlier apps of this process counted.
    client.app.state.metrics.suggestions_served.labels(kind="tip", channel="app")
    served = metric_value(client, "powerhall_suggestions_served_total", channel="app", kind="tip")
    response = client.post(
        "/v1/campaigns",
        json={"name": "spring", "kinds": ["tip"], "dry_run": False},
        headers=Keys.header(keys.admin),
    )
    assert response.status_code == 201, response.text
    plan = response.json()
    assert plan["campaign_id"] and plan["messages"] > 0
    assert stored(settings) == (1, plan["messages"], plan["messages"])
    assert depth_metric(client) == plan["messages"]
    assert (
        metric_value(client, "powerhall_suggestions_served_total", channel="app", kind="tip")
        == served + plan["messages"]
    )


@pytest.mark.parametrize("role", ["app", "counter"])
def test_only_admin_keys_plan_campaigns(client: TestClient, keys: Keys, role: str) -> None:
    response = client.post(
        "/v1/campaigns",
        json={"name": "spring", "dry_run": True},
        headers=Keys.header(getattr(keys, role)),
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_not_allowed"
    assert client.post("/v1/campaigns", json={"name": "x", "dry_run": True}).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"name": "spring"},  # dry_run must be said
        {"name": "spring", "dry_run": True, "kinds": ["lottery"]},
        {"name": "spring", "dry_run": True, "limit_per_customer": 0},
        {"name": "", "dry_run": True},
        {"name": "a\x00b", "dry_run": True},
        {"name": "spring", "dry_run": True, "customer_ids": ["C" * 65]},
        {"name": "spring", "dry_run": True, "customer_ids": []},
        {"name": "spring", "dry_run": True, "surprise": 1},
    ],
)
def test_bad_bodies_are_422(client: TestClient, keys: Keys, body: dict[str, object]) -> None:
    response = client.post("/v1/campaigns", json=body, headers=Keys.header(keys.admin))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_unknown_customers_are_422(client: TestClient, keys: Keys) -> None:
    response = client.post(
        "/v1/campaigns",
        json={"name": "spring", "dry_run": True, "customer_ids": ["NOBODY"]},
        headers=Keys.header(keys.admin),
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_customers"
    assert "NOBODY" in response.json()["error"]["message"]
