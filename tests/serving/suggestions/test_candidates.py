"""Candidates through the engine: tariff safeguards, tips, retention, service recovery,
languages, ids and the answer's risks and model versions."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pandas as pd
import pytest

from powerhall.errors import ContractError
from powerhall.tips import customer_prices
from serving.suggestions.candidates import NAMESPACE, Catalogue, suggestion_id
from serving.suggestions.engine import Suggester
from serving.suggestions.model import Answer, Channel, ContactHistory
from serving.suggestions.ranking import RETAIL_MARGIN
from tests.serving.suggestions.factories import NOW, customer, profile, reasons


def ask(
    suggester: Suggester,
    channel: Channel = Channel.COUNTER,
    limit: int = 5,
    language: str = "zh-CN",
    record=None,
    **features,
) -> Answer:
    return suggester.suggest(
        record or customer(),
        profile(**features),
        ContactHistory(),
        channel=channel,
        now=NOW,
        limit=limit,
        language=language,
    )


def by_kind(answer: Answer) -> dict:
    return {s.kind: s for s in answer.suggestions}


def test_tariff_switch_shows_saving_band_and_time_of_use_risk(suggester: Suggester) -> None:
    tariff = by_kind(ask(suggester))["tariff"]
    assert tariff.item_id == "shanghai-res-tou"
    assert "预计每年节省约 ¥320（¥210–¥450）" in tariff.message
    assert "¥120" in tariff.message and "120 元" in tariff.script
    assert "tou_bill_risk" in [r.code for r in tariff.reasons]
    assert (tariff.saving_cny, tariff.saving_p10_cny, tariff.saving_p90_cny) == (320, 210, 450)
    assert tariff.expected_value == pytest.approx(320 * 0.3)
    assert tariff.confidence == pytest.approx(1 - 240 / 660, abs=1e-3)


def test_no_bill_risk_no_warning(suggester: Suggester) -> None:
    tariff = by_kind(ask(suggester, best_tariff_bill_risk_cny=0.0))["tariff"]
    assert "tou_bill_risk" not in [r.code for r in tariff.reasons]
    assert "请注意" not in tariff.message


def test_stay_is_an_answer(suggester: Suggester) -> None:
    tariff = by_kind(ask(suggester, tariff_advice="stay", best_tariff_saving_cny_365d=30.0))[
        "tariff"
    ]
    assert tariff.item_id == "shanghai-res-tiered"
    assert tariff.title == "继续使用当前电价方案"
    assert tariff.saving_cny is None
    assert [r.code for r in tariff.reasons] == ["stay_small_saving"]
    assert "¥30" in tariff.reasons[0].text


def test_insufficient_data_says_what_is_missing_at_the_counter_only(suggester: Suggester) -> None:
    answer = ask(suggester, tariff_advice="insufficient_data", reading_days_365d=120)
    tariff = by_kind(answer)["tariff"]
    assert tariff.item_id == "insufficient_data"
    assert "270" in tariff.message and "120" in tariff.message
    assert tariff.saving_cny is None and tariff.expected_value == 0
    app = ask(suggester, Channel.APP, tariff_advice="insufficient_data", reading_days_365d=120)
    assert "tariff" not in by_kind(app)


def test_vacant_premises_get_no_saving_advice(suggester: Suggester) -> None:
    kinds = by_kind(ask(suggester, tariff_advice="vacant", kwh_365d=120.0))
    assert "tariff" not in kinds and "tip" not in kinds


@pytest.mark.parametrize(
    ("features", "item"),
    [
        ({"reading_days_365d": 200}, "insufficient_data"),
        ({"kwh_365d": 100.0}, None),  # vacant
        ({"best_tariff_id": "shanghai-res-tiered"}, "shanghai-res-tiered"),  # already on it
        ({"best_tariff_saving_cny_365d": 30.0}, "shanghai-res-tiered"),  # too little: stay
        ({}, "shanghai-res-tou"),
        ({"best_tariff_id": None}, None),  # no tariff model yet
    ],
)
def test_safeguards_hold_without_the_scores_advice(
    suggester: Suggester, features: dict, item
) -> None:
    tariff = by_kind(ask(suggester, tariff_advice=None, **features)).get("tariff")
    assert (tariff and tariff.item_id) == item


@pytest.mark.parametrize("best", ["beijing-res-tou", "shanghai-com-tou", "no-such-tariff"])
def test_only_tariffs_the_customer_may_choose(suggester: Suggester, best: str) -> None:
    assert "tariff" not in by_kind(ask(suggester, best_tariff_id=best))


def test_tips_follow_the_ranker_one_per_kind(suggester: Suggester) -> None:
    answer = ask(suggester)
    tips = [s for s in answer.suggestions if s.kind == "tip"]
    assert len(tips) == 1
    tip = tips[0]  # 200 yuan x 0.2 beats 90 yuan x 0.4
    assert tip.item_id == "tip-solar-water-heater"
    assert tip.expected_value == pytest.approx(40.0)
    assert tip.saving_cny == 200
    assert "¥200" in tip.message
    assert [r.code for r in tip.reasons] == ["tip_saving", "kwh_365d"]
    assert answer.excluded["one_per_kind"] == 1


def test_unknown_and_other_segment_tips_are_skipped(suggester: Suggester) -> None:
    top = [
        {"tip_id": "tip-no-such-tip", "score": 0.9, "saving_cny_365d": 900.0},
        {"tip_id": "tip-compressed-air-leaks", "score": 0.9, "saving_cny_365d": 900.0},
        {"tip_id": "tip-led-lighting", "score": 0.1, "saving_cny_365d": 10.0},
    ]
    tip = by_kind(ask(suggester, top_tips=json.dumps(top)))["tip"]
    assert tip.item_id == "tip-led-lighting"


def test_tips_from_the_catalogue_when_the_scores_have_none(
    suggester: Suggester, catalogue: Catalogue
) -> None:
    record = customer(tariff_id="shanghai-res-tou")
    answer = ask(suggester, record=record, top_tips=None)
    tip = by_kind(answer)["tip"]
    features = profile(top_tips=None).features
    row = {name: features.get(name) for name in catalogue.tips.features()}
    frame = pd.DataFrame([row | {"segment": "residential"}])
    prices = customer_prices(catalogue.facts, pd.Series(["shanghai-res-tou"]))
    savings = catalogue.tips.estimate_savings(frame, prices).iloc[0]
    assert tip.item_id == savings.idxmax()
    assert tip.saving_cny == pytest.approx(savings.max(), abs=0.01)
    assert tip.confidence == 0.6
    assert tip.item_id == "tip-ev-valley-charging"  # the EV moves to the valley on this tariff
    assert [r.code for r in tip.reasons] == ["tip_saving", "has_ev_charger", "your_spread"]


def test_retention_for_business_customers_at_risk(suggester: Suggester) -> None:
    business = customer(segment="commercial", tariff_id="shanghai-com-tou")
    churn = reasons(("complaints_90d", "近90天投诉2次", "2 complaints in the last 90 days"))
    features = {"tariff_advice": "stay", "avg_bill_cny_365d": 5000.0, "churn_reasons": churn}
    at_risk = by_kind(ask(suggester, record=business, churn_risk=0.4, **features))["retention"]
    assert at_risk.expected_value == pytest.approx(12 * 5000 * RETAIL_MARGIN * 0.4)
    assert [r.code for r in at_risk.reasons] == ["churn_risk", "complaints_90d"]
    assert "retention" not in by_kind(ask(suggester, record=business, churn_risk=0.1, **features))
    assert "retention" not in by_kind(ask(suggester, churn_risk=0.9))  # residential


def test_service_recovery_first_on_the_counter_after_an_outage(suggester: Suggester) -> None:
    big = {"best_tariff_saving_cny_365d": 2000.0, "days_since_last_outage": 3.2}
    counter = ask(suggester, **big)
    first = counter.suggestions[0]
    assert (first.kind, first.item_id) == ("service_recovery", "recovery-outage")
    assert first.expected_value < counter.suggestions[1].expected_value
    assert "3天前" in first.message
    assert ask(suggester, Channel.APP, **big).suggestions[0].kind == "tariff"
    old = ask(suggester, best_tariff_saving_cny_365d=2000.0, days_since_last_outage=9.0)
    assert "service_recovery" not in by_kind(old)


def test_high_complaint_risk_gets_care_first(suggester: Suggester) -> None:
    answer = ask(suggester, best_tariff_saving_cny_365d=2000.0, complaint_risk_30d=0.35)
    first = answer.suggestions[0]
    assert (first.kind, first.item_id) == ("service_recovery", "recovery-care")
    assert [r.code for r in first.reasons] == ["complaint_risk", "complaints_all"]
    (risk,) = answer.risks
    assert (risk.name, risk.level, risk.probability) == ("complaint", "high", 0.35)


def test_recent_complaint_is_followed_up(suggester: Suggester) -> None:
    recovery = by_kind(ask(suggester, days_since_last_complaint=0.5))["service_recovery"]
    assert recovery.item_id == "recovery-complaint"
    assert "今天" in recovery.message


def test_languages(suggester: Suggester) -> None:
    zh = ask(suggester, days_since_last_outage=2.5)
    en = ask(suggester, language="en", days_since_last_outage=2.5)
    assert [s.suggestion_id for s in zh.suggestions] == [s.suggestion_id for s in en.suggestions]
    tariff = by_kind(en)["tariff"]
    assert tariff.title.startswith("Switch to Shanghai residential time-of-use")
    assert "about ¥320 a year (¥210–¥450)" in tariff.message
    assert "2 days ago" in by_kind(en)["service_recovery"].message
    assert en.risks[0].reasons[0].text == "1 complaints in total"
    assert zh.risks[0].reasons[0].text == "累计投诉1次"
    assert en.profile_summary["tariff_name"].startswith("Shanghai residential tiered")
    with pytest.raises(ContractError, match="language"):
        ask(suggester, language="fr")


def test_suggestion_ids_are_stable(suggester: Suggester, catalogue: Catalogue) -> None:
    first = ask(suggester)
    again = ask(suggester)
    assert [s.suggestion_id for s in first.suggestions] == [
        s.suggestion_id for s in again.suggestions
    ]
    tariff = by_kind(first)["tariff"]
    expected = uuid.uuid5(NAMESPACE, "C000001/tariff/shanghai-res-tou")
    assert (
        tariff.suggestion_id
        == str(expected)
        == suggestion_id("C000001", "tariff", "shanghai-res-tou")
    )
    other = ask(suggester, record=customer(customer_id="C000002"))
    assert by_kind(other)["tariff"].suggestion_id != tariff.suggestion_id


def test_answer_carries_model_versions_and_summary(suggester: Suggester) -> None:
    answer = ask(suggester, limit=2)
    assert answer.model_versions == {"complaint": "5", "tips": "2", "scoring": "batch"}
    assert [s.rank for s in answer.suggestions] == [1, 2]
    assert not answer.degraded and not answer.cold_start
    assert answer.profile_summary["kwh_365d"] == 4200.0
    assert answer.profile_summary["profile"] == "customer"


def test_advice_to_stay_is_answered_but_not_pushed(suggester: Suggester) -> None:
    stay = {"tariff_advice": "stay", "best_tariff_saving_cny_365d": 30.0}
    asked = ask(suggester, channel=Channel.APP, **stay)
    assert ("tariff", "shanghai-res-tiered") in {(s.kind, s.item_id) for s in asked.suggestions}
    pushed = suggester.suggest(
        customer(), profile(**stay), ContactHistory(), channel=Channel.APP, now=NOW, push=True
    )
    assert [s.kind for s in pushed.suggestions] == ["tip"]
    assert pushed.excluded["no_value"] == 1
    switch = suggester.suggest(
        customer(), profile(), ContactHistory(), channel=Channel.APP, now=NOW, push=True
    )
    assert switch.excluded["no_value"] == 0
    assert [s.kind for s in switch.suggestions] == ["tariff", "tip"]


def test_the_policy_applies_to_the_answer(suggester: Suggester) -> None:
    record = customer(push_consent=False)
    answer = suggester.suggest(
        record, profile(), ContactHistory(), channel=Channel.APP, now=NOW, push=True
    )
    assert answer.suggestions == ()
    assert answer.excluded["no_consent"] == 3  # tariff and two tips
    history = ContactHistory(pushes=(NOW - timedelta(days=1),))
    capped = suggester.suggest(
        customer(), profile(), history, channel=Channel.APP, now=NOW, push=True
    )
    assert len(capped.suggestions) == 1
