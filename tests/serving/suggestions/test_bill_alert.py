"""The bill alert through the engine: raised only when this month's forecast is a shock
against the usual bill or the next tier is near, rendered in both languages with its
reasons, ranked by the shock, and held back by the contact policy like any suggestion."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from powerhall.settings import ContactPolicy
from serving.suggestions.engine import Suggester
from serving.suggestions.model import Answer, Channel, ContactHistory
from tests.serving.suggestions.conftest import make_suggester
from tests.serving.suggestions.factories import NOW, customer, outcome, profile, shown

MONTH = "2026-03"
"""NOW's month in Shanghai."""
KIND = "bill_alert"


def bill(**overrides: Any) -> dict[str, Any]:
    """A forecast of this month: ¥286 against a usual ¥190, the second tier on the 12th,
    more air conditioning and evening use than usual."""
    return {
        "bill_forecast_month": MONTH,
        "bill_forecast_cny": 286.0,
        "bill_forecast_p10_cny": 262.0,
        "bill_forecast_p90_cny": 312.0,
        "bill_usual_cny": 190.0,
        "tier_next": 2,
        "tier_cross_date": "2026-03-12",
        "tier_cross_earliest": "2026-03-10",
        "tier_cross_latest": "2026-03-15",
        "bill_alert_reason": json.dumps(
            [
                {"code": "tier", "value": 2.0},
                {"code": "cooling", "value": 0.42},
                {"code": "evening", "value": 0.6},
            ]
        ),
    } | overrides


def ask(
    suggester: Suggester,
    *,
    channel: Channel = Channel.APP,
    language: str = "zh-CN",
    history: ContactHistory | None = None,
    now: datetime = NOW,
    push: bool = False,
    record: Any = None,
    **features: Any,
) -> Answer:
    return suggester.suggest(
        record or customer(),
        profile(**bill(**features)),
        history or ContactHistory(),
        channel=channel,
        now=now,
        limit=5,
        language=language,
        push=push,
    )


def alerts(answer: Answer) -> list:
    return [s for s in answer.suggestions if s.kind == KIND]


def test_a_shock_with_a_tier_near_is_said_with_date_bill_usual_and_reason(
    suggester: Suggester,
) -> None:
    (alert,) = alerts(ask(suggester))
    assert alert.item_id == f"bill-{MONTH}"
    assert alert.title == "预计 3 月 12 日进入第二档电价"
    assert alert.message.startswith(
        "按当前用电，预计 3 月 12 日进入第二档，本月电费约 ¥286（通常 ¥190）。"
    )
    assert "可能的原因：天气较热，空调用电增加" in alert.message
    codes = [r.code for r in alert.reasons]
    assert codes == ["bill_tier", "bill_cooling", "bill_evening", "bill_forecast"]
    assert "¥262–¥312" in alert.reasons[-1].text
    assert alert.expected_value == pytest.approx(286 - 190)
    assert alert.confidence == pytest.approx(1 - 50 / 574, abs=1e-3)
    assert alert.saving_cny is None


def test_english(suggester: Suggester) -> None:
    (alert,) = alerts(ask(suggester, language="en"))
    assert alert.title == "Tier 2 prices from about 12 March"
    assert "this month's bill is likely about ¥286 (usually ¥190)" in alert.message
    assert "The likely reason: hotter weather" in alert.message
    assert not re.search(r"[\u4e00-\u9fff]", json.dumps([alert.title, alert.message]))


def test_a_shock_alone_alerts(suggester: Suggester) -> None:
    (alert,) = alerts(ask(suggester, tier_cross_date=None, bill_alert_reason="[]"))
    assert alert.title == "本月电费提醒"
    assert alert.message == "按当前用电，本月电费约 ¥286（通常 ¥190）。"
    assert [r.code for r in alert.reasons] == ["bill_forecast"]


def test_a_near_tier_alone_alerts(suggester: Suggester) -> None:
    (alert,) = alerts(ask(suggester, bill_forecast_cny=200.0))
    assert "第二档" in alert.title and alert.expected_value == pytest.approx(10.0)


@pytest.mark.parametrize(
    "features",
    [
        # use like usual, the tier far off: nothing to warn of
        {"bill_forecast_cny": 200.0, "tier_cross_date": "2026-03-30"},
        # 30 % more but only ¥15: a small bill
        {"bill_forecast_cny": 65.0, "bill_usual_cny": 50.0, "tier_cross_date": None},
        # a forecast of last month, or none
        {"bill_forecast_month": "2026-02"},
        {"bill_forecast_month": None, "bill_forecast_cny": None},
        # the crossing day has passed and the bill is usual
        {"bill_forecast_cny": 200.0, "tier_cross_date": "2026-03-01"},
        # no usual bill to compare with, no tier ahead
        {"bill_usual_cny": None, "tier_next": None, "tier_cross_date": None},
        # an unreadable date is no crossing
        {"bill_forecast_cny": 200.0, "tier_cross_date": "12 March"},
    ],
)
def test_no_alert_unless_the_condition_holds(suggester: Suggester, features: dict) -> None:
    assert alerts(ask(suggester, **features)) == []


def test_thresholds_come_from_the_policy(catalogue) -> None:
    strict = make_suggester(
        catalogue, policy=ContactPolicy(bill_alert_rise=0.6, bill_alert_tier_days=5)
    )
    assert alerts(ask(strict)) == []  # +51 % and the tier in 10 days
    loose = make_suggester(catalogue, policy=ContactPolicy(bill_alert_tier_days=30))
    assert alerts(ask(loose, bill_forecast_cny=200.0, tier_cross_date="2026-03-30"))


def test_shown_on_the_counter_with_a_script_for_staff(suggester: Suggester) -> None:
    (alert,) = alerts(ask(suggester, channel=Channel.COUNTER))
    assert alert.script.startswith(
        "客户预计 3 月 12 日进入第二档电价，本月电费约 286 元（通常 190 元）"
    )


def test_unknown_reason_codes_are_skipped(suggester: Suggester) -> None:
    raw = json.dumps([{"code": "aliens", "value": 1.0}, {"code": "ev", "value": 0.7}])
    (alert,) = alerts(ask(suggester, bill_alert_reason=raw))
    assert [r.code for r in alert.reasons] == ["bill_ev", "bill_forecast"]
    assert "70%" in alert.reasons[0].text
    (broken,) = alerts(ask(suggester, bill_alert_reason="not json"))
    assert [r.code for r in broken.reasons] == ["bill_forecast"]


QUIET = datetime(2026, 3, 2, 14, tzinfo=UTC)
"""22:00 in Shanghai."""


@pytest.mark.parametrize(
    ("args", "rule"),
    [
        ({"push": True, "record": customer(push_consent=False)}, "no_consent"),
        ({"push": True, "now": QUIET}, "quiet_hours"),
        ({"record": customer(has_app=False)}, "no_app"),
        (
            {"history": ContactHistory(outcomes=(outcome(KIND, "bill-2026-02", "declined", 20),))},
            "declined_kind",
        ),
        (
            {"push": True, "history": ContactHistory(pushes=(NOW - timedelta(days=1),) * 2)},
            "weekly_cap",
        ),
    ],
)
def test_the_contact_policy_holds_it_back(suggester: Suggester, args: dict, rule: str) -> None:
    assert alerts(ask(suggester))  # the same request without what holds it back
    answer = ask(suggester, **args)
    assert alerts(answer) == []
    assert answer.excluded[rule] >= 1


def test_no_repeat_within_the_month(suggester: Suggester) -> None:
    (first,) = alerts(ask(suggester))
    history = ContactHistory(shown=(shown(first.suggestion_id, KIND, first.item_id, 3),))
    answer = ask(suggester, history=history)
    assert alerts(answer) == [] and answer.excluded["recently_shown"] == 1
