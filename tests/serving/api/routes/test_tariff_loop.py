"""The tariff loop: an accepted tariff offer changes the next answer.

A scores-view row (as `powerhall score` writes it) advises one customer of the small world
to switch to a tariff of its own segment and region; it is materialized into the test's
online store, offered at the counter, accepted, and then no tariff is offered again
(the policy silences tariff offers for `accepted_tariff_days` after an accepted one).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from features.materialize import materialize
from features.store import open_store
from powerhall.settings import Settings
from powerhall.tariffs import load_catalogue
from serving.db.engine import make_engine, session_factory
from serving.db.tables import Customer, SuggestionOutcome
from tests.serving.conftest import Keys
from training import tariff_score
from training.score import VIEW, write_scores

CUSTOMER = "C0000"
SAVING = 321.0


def _customer(settings: Settings) -> Customer:
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        customer = session.get(Customer, CUSTOMER)
        assert customer is not None
        session.expunge(customer)
    engine.dispose()
    return customer


def _outcomes(settings: Settings) -> list[SuggestionOutcome]:
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        rows = list(session.scalars(select(SuggestionOutcome)))
    engine.dispose()
    return rows


@pytest.fixture
def best_tariff(settings: Settings) -> str:
    """Score the customer as `powerhall score` would: switch to an eligible tariff."""
    customer = _customer(settings)
    eligible = [
        t.id
        for t in load_catalogue().eligible(segment=customer.segment, region=customer.region)
        if t.id != customer.tariff_id
    ]
    assert eligible, f"no other tariff open to {customer.segment}/{customer.region}"
    best = eligible[0]
    advice = pd.DataFrame(
        [
            {
                "best_tariff_id": best,
                "best_tariff_saving_cny_365d": SAVING,
                "best_tariff_saving_p10_cny": 120.0,
                "best_tariff_saving_p90_cny": 480.0,
                "best_tariff_acceptance": 0.6,
                "best_tariff_bill_risk_cny": 0.0,
                "tariff_advice": "switch",
            }
        ],
        columns=list(tariff_score.COLUMNS),
    )
    write_scores(
        settings.offline_dir / VIEW,
        pd.Series([CUSTOMER]),
        {},
        {"tariff_fit": "1"},
        datetime.now(UTC),
        tariff=advice,
    )
    materialize(open_store(settings), settings, views=[VIEW])
    return best


def _tariffs(answer: dict) -> list[dict]:
    return [s for s in answer["suggestions"] if s["kind"] == "tariff"]


def test_an_accepted_tariff_offer_silences_tariff_offers(
    client: TestClient,
    keys: Keys,
    settings: Settings,
    identify: Callable[..., None],
    best_tariff: str,
) -> None:
    identify(CUSTOMER)
    url = f"/v1/customers/{CUSTOMER}/suggestions?channel=counter"
    headers = Keys.header(keys.counter)

    before = client.get(url, headers=headers)
    assert before.status_code == 200, before.text
    (offer,) = _tariffs(before.json())
    assert offer["item_id"] == best_tariff
    assert offer["saving_cny"] == pytest.approx(SAVING)
    assert (offer["saving_p10_cny"], offer["saving_p90_cny"]) == (120.0, 480.0)

    accepted = client.post(
        f"/v1/suggestions/{offer['suggestion_id']}/feedback",
        json={"outcome": "accepted", "staff_id": "S01"},
        headers=headers | {"Idempotency-Key": "tariff-loop-1"},
    )
    assert accepted.status_code == 200, accepted.text

    after = client.get(url, headers=headers)
    assert after.status_code == 200, after.text
    assert _tariffs(after.json()) == []
    assert after.json()["excluded"]["accepted"] >= 1

    (row,) = _outcomes(settings)
    assert (row.customer_id, row.kind, row.item_id, row.outcome, row.channel) == (
        CUSTOMER,
        "tariff",
        best_tariff,
        "accepted",
        "counter",
    )
    assert row.idempotency_key == "tariff-loop-1"
