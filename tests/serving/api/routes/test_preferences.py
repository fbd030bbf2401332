"""`GET`/`PUT /v1/customers/{id}/preferences`: the peer comparison opt-out, end to end.

A scores-view row (as `powerhall score` writes it) puts one customer of the small world
80 % above similar homes; it is materialized into the test's online store, so the app
answer carries the comparison until the customer opts out, in answers and in campaigns.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from features import peers
from features.materialize import materialize
from features.store import open_store
from powerhall.settings import Settings
from serving.api.deps import _now
from serving.db.engine import make_engine, session_factory
from serving.db.tables import AuditEntry, Customer
from serving.directory import sync_customers
from tests.serving.conftest import Keys
from training.score import VIEW, write_scores

CUSTOMER = "C0000"
KIND = "peer_comparison"
URL = f"/v1/customers/{CUSTOMER}/preferences"
SUGGESTIONS = f"/v1/customers/{CUSTOMER}/suggestions?channel=app&limit=10"
DAY = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
"""A Monday, 11:00 in Shanghai: outside quiet hours, after the scores were written."""


@pytest.fixture
def compared(settings: Settings) -> None:
    """Score the customer as `powerhall score` would: 80 % above 120 similar homes, far
    enough that the comparison is among the two pushes a week whatever the tips draw."""
    row = pd.DataFrame(
        [
            {
                "peer_group": "shanghai/residential/no_electric_heating",
                "peer_group_size": 120,
                "peer_median_kwh_30d": 200.0,
                "peer_efficient_kwh_30d": 150.0,
                "peer_ratio": 1.8,
            }
        ],
        columns=list(peers.COLUMNS),
    )
    write_scores(
        settings.offline_dir / VIEW,
        pd.Series([CUSTOMER]),
        {},
        {},
        datetime(2026, 3, 1, tzinfo=UTC),
        peer=row,
    )
    materialize(open_store(settings), settings, views=[VIEW], full=True)


def kinds(client: TestClient, token: str) -> tuple[set[str], dict[str, int]]:
    response = client.get(SUGGESTIONS, headers=Keys.header(token))
    assert response.status_code == 200, response.text
    body = response.json()
    return {s["kind"] for s in body["suggestions"]}, body["excluded"]


def plan(client: TestClient, token: str) -> dict:
    """A dry-run campaign of comparisons for the customer."""
    response = client.post(
        "/v1/campaigns",
        json={"name": "peers", "kinds": [KIND], "customer_ids": [CUSTOMER], "dry_run": True},
        headers=Keys.header(token),
    )
    assert response.status_code == 201, response.text
    return response.json()


def put(client: TestClient, token: str, body: object):
    return client.put(URL, json=body, headers=Keys.header(token))


@pytest.mark.usefixtures("compared")
def test_an_opt_out_is_honoured_until_it_is_lifted(
    app: FastAPI, client: TestClient, keys: Keys
) -> None:
    app.dependency_overrides[_now] = lambda: DAY
    assert client.get(URL, headers=Keys.header(keys.app)).json() == {"peer_comparison": True}
    shown, _ = kinds(client, keys.app)
    assert KIND in shown
    assert plan(client, keys.admin)["by_kind"] == {KIND: 1}

    response = put(client, keys.app, {"peer_comparison": False})
    assert response.status_code == 200, response.text
    assert response.json() == {"peer_comparison": False}
    assert client.get(URL, headers=Keys.header(keys.admin)).json() == {"peer_comparison": False}
    shown, excluded = kinds(client, keys.app)
    assert KIND not in shown and excluded["opted_out"] == 1
    opted_out = plan(client, keys.admin)
    assert opted_out["recipients"] == 0 and opted_out["excluded"]["opted_out"] == 1

    assert put(client, keys.admin, {"peer_comparison": True}).status_code == 200
    shown, excluded = kinds(client, keys.app)
    assert KIND in shown and excluded["opted_out"] == 0


def test_a_resync_of_the_directory_keeps_the_preference(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    assert put(client, keys.app, {"peer_comparison": False}).status_code == 200
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        sync_customers(session, settings.lake_dir)
        customer = session.get(Customer, CUSTOMER)
        assert customer is not None and customer.peer_comparison is False
        (audit,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "preferences"))
    engine.dispose()
    assert (audit.customer_id, audit.role, audit.reason) == (
        CUSTOMER,
        "app",
        "peer_comparison=false",
    )


def test_only_app_and_admin_keys_set_preferences(client: TestClient, keys: Keys) -> None:
    for method in (client.get, client.put):
        response = method(URL, headers=Keys.header(keys.counter))
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "role_not_allowed"
    assert client.put(URL, json={"peer_comparison": False}).status_code == 401


def test_a_malformed_preference_is_refused(client: TestClient, keys: Keys) -> None:
    """Missing, not a JSON boolean, or an unknown (misspelt) preference: 422, nothing set."""
    for body in (
        {},
        {"peer_comparison": "no"},
        {"peer_comparison": 0},
        {"peer_comparison": False, "peer_comparisons": False},
    ):
        response = put(client, keys.app, body)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "validation_error"
    assert client.get(URL, headers=Keys.header(keys.app)).json() == {"peer_comparison": True}


def test_an_unknown_customer_is_not_found(client: TestClient, keys: Keys) -> None:
    response = client.put(
        "/v1/customers/NOBODY/preferences",
        json={"peer_comparison": False},
        headers=Keys.header(keys.app),
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "customer_not_found"
