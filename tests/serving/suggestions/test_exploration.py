"""Exploration: Thompson sampling in a share of answers, decided per customer and local day."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest

from powerhall.contract import Outcome, Table
from powerhall.errors import ContractError
from powerhall.lake import read_table
from powerhall.settings import Settings
from serving.suggestions.candidates import Catalogue
from serving.suggestions.engine import Suggester, build_suggester
from serving.suggestions.evidence import observed_outcomes
from serving.suggestions.model import Channel, ContactHistory
from serving.suggestions.ranking import (
    PRIOR_ANSWERS,
    Candidate,
    Evidence,
    Exploration,
    rank,
    with_outcomes,
)
from tests.serving.suggestions.conftest import make_suggester
from tests.serving.suggestions.factories import NOW, customer, profile


def tip(item_id: str, saving: float, probability: float) -> Candidate:
    return Candidate(
        suggestion_id=f"s-{item_id}",
        kind="tip",
        item_id=item_id,
        title=item_id,
        message="",
        script="",
        reasons=(),
        evidence=Evidence.SCORES,
        probability=probability,
        saving_cny=saving,
    )


def test_the_share_is_checked() -> None:
    with pytest.raises(ContractError, match="between 0 and 1"):
        Exploration(1.5)
    with pytest.raises(ContractError, match="accepted <= shown"):
        Exploration(0.1, observed={("tip", "tip-a"): (3, 4)})


def test_about_the_share_of_answers_explore_and_each_answer_always_alike() -> None:
    exploration = Exploration(0.1, seed=3)
    keys = [f"C{i:06d}/2026-03-02" for i in range(20_000)]
    share = sum(exploration.explores(k) for k in keys) / len(keys)
    assert 0.09 < share < 0.11
    assert [exploration.explores(k) for k in keys[:200]] == [
        Exploration(0.1, seed=3).explores(k) for k in keys[:200]
    ]
    assert not any(Exploration(0.0).explores(k) for k in keys[:500])
    assert all(Exploration(1.0).explores(k) for k in keys[:500])
    other_seed = Exploration(0.1, seed=4)
    assert [exploration.explores(k) for k in keys] != [other_seed.explores(k) for k in keys]


def test_draws_follow_the_observed_outcomes() -> None:
    exploration = Exploration(
        1.0, observed={("tip", "good"): (400, 360), ("tip", "poor"): (400, 8)}
    )
    arms = [("tip", "good"), ("tip", "poor"), ("tip", "never-shown")]
    draws = pd.DataFrame(
        [exploration.draw(f"key-{i}", arms) for i in range(300)], columns=[0, 1, 2]
    )
    assert draws[0].mean() == pytest.approx(0.9, abs=0.02)
    assert draws[1].mean() == pytest.approx(0.02, abs=0.01)
    assert draws[2].mean() == pytest.approx(0.5, abs=0.06), "a new item draws from Beta(1, 1)"
    assert exploration.draw("key-1", arms) == exploration.draw("key-1", arms)


def test_an_exploring_answer_can_put_a_low_scored_item_first() -> None:
    candidates = [tip("high-score", 100.0, 0.5), tip("low-score", 80.0, 0.05)]
    assert [r.item_id for r in rank(candidates)] == ["high-score", "low-score"]
    exploration = Exploration(
        1.0, observed={("tip", "high-score"): (500, 5), ("tip", "low-score"): (500, 450)}
    )
    explored = rank(candidates, exploration, "C1/2026-03-02")
    assert [r.item_id for r in explored] == ["low-score", "high-score"]
    assert [r.expected_value for r in explored] == [4.0, 50.0], "the models' value is reported"
    never = Exploration(0.0, observed=exploration.observed)
    assert [r.item_id for r in rank(candidates, never, "C1/2026-03-02")] == [
        "high-score",
        "low-score",
    ]


def test_an_exploring_answer_also_offers_the_tips_the_ranker_left_out(
    catalogue: Catalogue,
) -> None:
    scored = profile(
        top_tips=json.dumps([{"tip_id": "tip-ac-26c", "score": 0.4, "saving_cny_365d": 90.0}])
    )
    live = catalogue.live_tips(scored.features, "residential", customer().tariff_id)
    left_out = max((t for t in live if t[0] != "tip-ac-26c"), key=lambda t: t[1])[0]
    observed = {("tip", "tip-ac-26c"): (1000, 1), ("tip", left_out): (1000, 990)}
    explorer = make_suggester(catalogue)
    explorer.exploration = Exploration(1.0, observed=observed)

    def tip_shown(suggester: Suggester) -> str:
        answer = suggester.suggest(
            customer(), scored, ContactHistory(), channel=Channel.APP, now=NOW, limit=5
        )
        return next(s.item_id for s in answer.suggestions if s.kind == "tip")

    assert tip_shown(make_suggester(catalogue)) == "tip-ac-26c"
    assert tip_shown(explorer) == left_out
    explorer.exploration = Exploration(0.0, observed=observed)
    assert tip_shown(explorer) == "tip-ac-26c"


def test_whether_an_answer_explores_is_decided_per_local_day(catalogue: Catalogue) -> None:
    suggester = make_suggester(catalogue)
    suggester.exploration = Exploration(0.5, seed=1)
    # 23:00 UTC is 07:00 the next day in Shanghai: another local day, another decision.
    same_day = [NOW.replace(hour=h) for h in (1, 5, 12, 15)]
    assert len({suggester.answer_key(customer(), t) for t in same_day}) == 1
    assert suggester.answer_key(customer(), NOW.replace(hour=23)) != suggester.answer_key(
        customer(), NOW
    )
    decisions = {suggester.explores(customer(), NOW + timedelta(days=d)) for d in range(30)}
    assert decisions == {True, False}


def test_build_suggester_explores_from_the_lake_outcomes(
    built: Settings,
    registry: str,
) -> None:
    outcomes = read_table(built.lake_dir, Table.SUGGESTION_OUTCOMES)
    counts = observed_outcomes(built.lake_dir)
    assert sum(n for n, _ in counts.values()) == len(outcomes)
    assert sum(a for _, a in counts.values()) == int(
        (outcomes["outcome"] == Outcome.ACCEPTED).sum()
    )

    settings = built.model_copy(update={"exploration_share": 0.25, "exploration_seed": 9})
    suggester = build_suggester(settings, tracking_uri=registry)
    assert suggester.exploration is not None
    assert (suggester.exploration.share, suggester.exploration.seed) == (0.25, 9)
    assert suggester.exploration.observed == counts
    off = build_suggester(
        built.model_copy(update={"exploration_share": 0.0}), tracking_uri=registry
    )
    assert off.exploration is None
    assert off.outcomes == counts  # the acceptance correction reads them all the same


def test_observed_outcomes_correct_the_models_acceptance() -> None:
    turned_down = {("tip", "tip-a"): (90, 0), ("tip", "tip-b"): (90, 45)}
    a, b = tip("tip-a", 100.0, 0.5), tip("tip-b", 60.0, 0.5)
    assert [r.item_id for r in rank([a, b])] == ["tip-a", "tip-b"]
    corrected = [with_outcomes(c, turned_down) for c in (a, b)]
    assert corrected[0].probability == pytest.approx(0.5 * PRIOR_ANSWERS / (PRIOR_ANSWERS + 90))
    assert corrected[1].probability == pytest.approx(0.5)
    assert [r.item_id for r in rank(corrected)] == ["tip-b", "tip-a"]
    # An item never answered keeps the model's acceptance; a stay is no offer to correct.
    assert with_outcomes(tip("tip-c", 50.0, 0.3), turned_down).probability == 0.3
    stay = Candidate(**{**a.__dict__, "kind": "tariff", "saving_cny": None, "probability": 0.0})
    assert with_outcomes(stay, {("tariff", "tip-a"): (10, 10)}) == stay


def test_the_engine_ranks_with_the_corrected_acceptance(catalogue: Catalogue) -> None:
    engine = make_suggester(catalogue)
    asked = engine.suggest(customer(), profile(), ContactHistory(), channel=Channel.APP, now=NOW)
    assert asked.suggestions[0].item_id == "shanghai-res-tou"
    engine.outcomes = {("tariff", "shanghai-res-tou"): (200, 0)}
    corrected = engine.suggest(
        customer(), profile(), ContactHistory(), channel=Channel.APP, now=NOW
    )
    assert corrected.suggestions[0].kind == "tip"
