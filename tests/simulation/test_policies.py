"""The baselines keep the engine's candidates and contact policy and change only the order."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from powerhall.tariffs import load_catalogue
from powerhall.tips import load_tips
from serving.suggestions.candidates import Catalogue
from serving.suggestions.model import Channel, ContactHistory
from serving.suggestions.ranking import Candidate, Evidence
from simulation.policies import STAY, Popularity, Reranked, arm, random_order
from tests.serving.suggestions.conftest import make_suggester
from tests.serving.suggestions.factories import NOW, customer, history, outcome, profile

RANKED_TIP = "tip-ac-26c"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue(load_tips(), load_catalogue())


def scored_profile():
    return profile(
        top_tips=json.dumps([{"tip_id": RANKED_TIP, "score": 0.9, "saving_cny_365d": 90.0}])
    )


def test_a_baseline_orders_every_eligible_tip_by_its_score(catalogue: Catalogue) -> None:
    engine = make_suggester(catalogue)
    scored = scored_profile()
    live = [t for t, _ in catalogue.live_tips(scored.features, "residential", customer().tariff_id)]
    favourite = next(t for t in live if t != RANKED_TIP)
    baseline = Reranked(engine, lambda c, who, now: float(c.item_id == favourite))

    def first(suggester, record: ContactHistory | None = None) -> tuple[str, str]:
        answer = suggester.suggest(
            customer(),
            scored,
            record or ContactHistory(),
            channel=Channel.APP,
            now=NOW,
            limit=1,
            push=True,
        )
        return answer.suggestions[0].kind, answer.suggestions[0].item_id

    assert first(engine) == ("tariff", "shanghai-res-tou"), "the engine: best expected value"
    assert first(baseline) == ("tip", favourite)
    declined = history(outcomes=(outcome("tip", favourite, "declined", 3),))
    assert first(baseline, declined)[0] == "tariff", "the contact policy still applies"


def test_popularity_is_the_observed_rate_and_the_overall_rate_for_new_items() -> None:
    popularity = Popularity({("tip", "a"): (10, 5), ("tip", "b"): (30, 3)})
    candidate = make_candidate("a")
    assert popularity.score(candidate, customer(), NOW) == 0.5
    assert popularity.score(make_candidate("never-shown"), customer(), NOW) == 8 / 40
    popularity.add(("tip", "a"), accepted=False)
    assert popularity.score(candidate, customer(), NOW) == 5 / 11


def test_staying_on_a_tariff_is_not_an_offer_of_that_tariff() -> None:
    popularity = Popularity({("tariff", "shanghai-res-tou"): (10, 6)})
    offer = replace(make_candidate("shanghai-res-tou"), kind="tariff")
    on_tiered = customer(tariff_id="shanghai-res-tiered")
    on_tou = customer(tariff_id="shanghai-res-tou")
    assert arm("tariff", "shanghai-res-tou", on_tou.tariff_id) == STAY
    assert popularity.score(offer, on_tiered, NOW) == 0.6
    popularity.add(STAY, accepted=False)
    assert popularity.score(offer, on_tou, NOW) == 0.0
    assert popularity.score(offer, on_tiered, NOW) == 0.6


def test_the_random_order_is_fixed_by_seed_customer_and_time() -> None:
    order = random_order(5)
    a, b = make_candidate("a"), make_candidate("b")
    one = [order(c, customer(), NOW) for c in (a, b)]
    assert one == [order(c, customer(), NOW) for c in (a, b)]
    assert one != [order(c, customer(), NOW + timedelta(days=7)) for c in (a, b)]
    assert one != [random_order(6)(c, customer(), NOW) for c in (a, b)]


def make_candidate(item_id: str) -> Candidate:
    return Candidate(
        suggestion_id=f"s-{item_id}",
        kind="tip",
        item_id=item_id,
        title="",
        message="",
        script="",
        reasons=(),
        evidence=Evidence.PROFILE,
        probability=0.1,
        saving_cny=10.0,
    )
