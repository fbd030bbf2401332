"""Hand-built customers, profiles and histories for the engine's unit tests."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from features.online import Profile
from serving.suggestions.model import ContactHistory, CustomerRecord, Feedback, Shown

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
"""A Monday, 11:00 in Shanghai: outside quiet hours."""


def customer(**overrides: Any) -> CustomerRecord:
    record = CustomerRecord(
        customer_id="C000001",
        account_no="A00000001",
        segment="residential",
        region="shanghai",
        hall_id="H01",
        tariff_id="shanghai-res-tiered",
        contract_capacity_kva=None,
        has_app=True,
        push_consent=True,
        phone="13812345678",
        created_at=datetime(2020, 1, 1, tzinfo=UTC),
        closed_at=None,
    )
    return replace(record, **overrides)


def reasons(*pairs: tuple[str, str, str]) -> str:
    """The scores view's reasons JSON from (feature, zh-CN, en)."""
    return json.dumps([{"feature": f, "value": 1.0, "zh-CN": zh, "en": en} for f, zh, en in pairs])


def features(**overrides: Any) -> dict[str, Any]:
    """A residential household with a year of data, EV charging and air conditioning, whose
    batch scores advise a move to time-of-use."""
    base: dict[str, Any] = {
        "kwh_365d": 4200.0,
        "reading_days_365d": 360,
        "valley_share_365d": 0.31,
        "peak_share_365d": 0.35,
        "night_share_365d": 0.15,
        "evening_share_365d": 0.4,
        "has_ev_charger": True,
        "ev_charging_days_share_90d": 0.3,
        "has_air_conditioning": True,
        "summer_shoulder_ratio_365d": 1.6,
        "has_electric_heating": False,
        "avg_bill_cny_365d": 230.0,
        "bills_365d": 12,
        "complaint_risk_30d": 0.05,
        "complaint_reasons": reasons(("complaints_all", "累计投诉1次", "1 complaints in total")),
        "churn_risk": None,
        "best_tariff_id": "shanghai-res-tou",
        "best_tariff_saving_cny_365d": 320.0,
        "best_tariff_saving_p10_cny": 210.0,
        "best_tariff_saving_p90_cny": 450.0,
        "best_tariff_acceptance": 0.3,
        "best_tariff_bill_risk_cny": 120.0,
        "tariff_advice": "switch",
        "top_tips": json.dumps(
            [
                {"tip_id": "tip-ac-26c", "score": 0.4, "saving_cny_365d": 90.0},
                {"tip_id": "tip-solar-water-heater", "score": 0.2, "saving_cny_365d": 200.0},
            ]
        ),
        "scores_model_versions": "complaint:5,tips:2",
        "days_since_last_outage": None,
        "days_since_last_complaint": None,
    }
    return base | overrides


def profile(
    customer_id: str = "C000001",
    *,
    scored_at: datetime | None = NOW - timedelta(days=1),
    live_at: datetime | None = None,
    **overrides: Any,
) -> Profile:
    return Profile(
        customer_id=customer_id,
        features=features(**overrides),
        updated_at={"consumption": scored_at, "scores": scored_at, "service_live": live_at},
    )


def unknown(customer_id: str = "C000001") -> Profile:
    """What the online store returns for a customer it has never seen."""
    return Profile(customer_id=customer_id, features={}, updated_at={"scores": None})


def shown(suggestion_id: str, kind: str, item_id: str, days_ago: float) -> Shown:
    return Shown(suggestion_id, kind, item_id, "counter", NOW - timedelta(days=days_ago))


def outcome(kind: str, item_id: str, result: str, days_ago: float) -> Feedback:
    return Feedback(f"s-{kind}-{item_id}", kind, item_id, result, NOW - timedelta(days=days_ago))


def history(**fields: Any) -> ContactHistory:
    return ContactHistory(**fields)
