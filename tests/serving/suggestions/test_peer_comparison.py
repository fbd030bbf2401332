"""The peer comparison through the engine: wording, the app only, its safeguards, opt-out."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from powerhall.settings import ContactPolicy
from serving.suggestions import texts
from serving.suggestions.candidates import Catalogue
from serving.suggestions.engine import Suggester
from serving.suggestions.model import Answer, Channel, ContactHistory, Suggestion
from serving.suggestions.ranking import DEFAULT_PEER_RESPONSE, PEER_CONFIDENCE
from tests.serving.suggestions.conftest import make_suggester
from tests.serving.suggestions.factories import NOW, customer, profile

KIND = "peer_comparison"
PEERS = {
    "peer_group": "shanghai/residential/no_electric_heating",
    "peer_group_size": 412,
    "peer_median_kwh_30d": 200.0,
    "peer_efficient_kwh_30d": 118.0,
    "peer_ratio": 1.23,
}
"""23 % above the median of 412 similar homes; efficient ones use about 120 kWh a month."""
SHAMING = re.compile(
    r"邻居|浪费|排名|超标|倒数|最差|neighbou?r|wast|rank|worst|bad|excessive|too much",
    re.IGNORECASE,
)


def ask(
    suggester: Suggester,
    *,
    channel: Channel = Channel.APP,
    language: str = "zh-CN",
    history: ContactHistory | None = None,
    record: Any = None,
    **features: Any,
) -> Answer:
    return suggester.suggest(
        record or customer(),
        profile(**(PEERS | features)),
        history or ContactHistory(),
        channel=channel,
        now=NOW,
        limit=10,
        language=language,
    )


def peer(answer: Answer) -> Suggestion | None:
    return next((s for s in answer.suggestions if s.kind == KIND), None)


def test_the_app_compares_with_similar_homes_in_both_languages(suggester: Suggester) -> None:
    chinese = peer(ask(suggester))
    english = peer(ask(suggester, language="en"))
    assert chinese is not None and english is not None
    assert chinese.suggestion_id == english.suggestion_id
    assert "您比相似家庭多用 23%；节能家庭每月约 120 度" in chinese.message
    assert (
        "you used 23 % more than similar homes; efficient similar homes use about 120 kWh a month"
        in english.message
    )
    assert [r.code for r in english.reasons] == ["peer_use", "peer_group", "peer_saving"]
    use, group, saving = (r.text for r in english.reasons)
    assert "about 250 kWh a month" in use and "median of similar homes is about 200 kWh" in use
    assert group == (
        "compared with 412 similar homes: in your region, not heating with electricity, like you"
    )
    assert chinese.reasons[1].text == "对比对象：412户同地区、同样不用电取暖的相似家庭"
    # 46 kWh a month above the median, at the customer's own ¥230 x 12 / 4,200 kWh a year.
    assert english.saving_cny == pytest.approx(12 * 46 * 230 * 12 / 4200, abs=0.01)
    assert "¥363" in saving
    assert english.expected_value == pytest.approx(
        english.saving_cny * DEFAULT_PEER_RESPONSE, abs=0.01
    )
    assert english.confidence == PEER_CONFIDENCE


def test_businesses_are_compared_with_similar_businesses(suggester: Suggester) -> None:
    shop = customer(segment="commercial", contract_capacity_kva=200.0)
    group = "shanghai/commercial/electric_heating/100-315kva"
    english = peer(ask(suggester, record=shop, language="en", peer_group=group))
    chinese = peer(ask(suggester, record=shop, peer_group=group))
    assert english is not None and chinese is not None
    assert "more than similar businesses" in english.message
    assert "similar homes" not in english.message
    assert "贵单位比同类用户多用 23%" in chinese.message
    assert english.reasons[1].text.endswith("with a similar contracted capacity")


def test_no_text_of_the_comparison_shames() -> None:
    """Every template a comparison can use, in both languages: "similar homes", never
    neighbours, rankings, waste or blame."""
    templates = [
        *(t[lang] for audience in texts.PEER.values() for t in audience.values() for lang in t),
        *(texts.REASONS[code][lang] for code in ("peer_use", "peer_group", "peer_saving")
          for lang in texts.LANGUAGES),
        *(t[lang] for t in texts.PEER_ATTRIBUTES.values() for lang in t),
    ]  # fmt: skip
    assert templates
    for template in templates:
        assert not SHAMING.search(template), template
    for audience in texts.PEER.values():
        assert "相似" in audience["message"][texts.ZH] or "同类" in audience["message"][texts.ZH]
        assert "similar" in audience["message"][texts.EN]


def test_only_the_app_channel_gets_it(suggester: Suggester) -> None:
    assert peer(ask(suggester, channel=Channel.COUNTER)) is None
    assert peer(ask(suggester)) is not None


def test_only_notably_above_similar_homes_by_the_policy_threshold(
    suggester: Suggester, catalogue: Catalogue
) -> None:
    assert peer(ask(suggester, peer_ratio=1.15)) is None
    assert peer(ask(suggester, peer_ratio=0.8)) is None
    lenient = make_suggester(catalogue, policy=ContactPolicy(peer_comparison_ratio=1.1))
    assert peer(ask(lenient, peer_ratio=1.15)) is not None


def test_never_for_likely_vacant_premises_nor_customers_not_compared(
    suggester: Suggester,
) -> None:
    assert peer(ask(suggester, tariff_advice="vacant")) is None
    assert peer(ask(suggester, tariff_advice=None, kwh_365d=120.0)) is None
    not_compared = dict.fromkeys(PEERS)
    assert peer(ask(suggester, **not_compared)) is None


def test_an_opt_out_removes_it_under_its_own_rule(suggester: Suggester) -> None:
    answer = ask(suggester, history=ContactHistory(opted_out=frozenset({KIND})))
    assert peer(answer) is None
    assert answer.excluded["opted_out"] == 1
    assert {s.kind for s in answer.suggestions} == {"tariff", "tip"}


def test_a_push_follows_the_contact_policy(suggester: Suggester) -> None:
    def push(at: datetime = NOW, **record: Any) -> Answer:
        return suggester.suggest(
            customer(**record),
            profile(**(PEERS | {"peer_ratio": 1.5})),
            ContactHistory(),
            channel=Channel.APP,
            now=at,
            limit=10,
            push=True,
        )

    # The two pushes a week the policy allows, best first: the tariff (¥96 expected) and the
    # comparison (¥79: 100 kWh a month above similar homes), not the best tip (¥40).
    assert [s.kind for s in push().suggestions] == ["tariff", KIND]
    assert push().excluded["weekly_cap"] == 1
    refused = push(push_consent=False)
    assert refused.suggestions == () and refused.excluded["no_consent"] > 0
    night = push(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))  # 22:00 in Shanghai
    assert night.suggestions == () and night.excluded["quiet_hours"] > 0
