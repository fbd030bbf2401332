"""The engine's inputs and answers: plain frozen dataclasses, so that routes, the counter
screen and campaign planning share one vocabulary without importing HTTP or SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    COUNTER = "counter"
    APP = "app"


@dataclass(frozen=True)
class CustomerRecord:
    """One row of the customers directory (the contract's `customers` columns)."""

    customer_id: str
    account_no: str | None
    segment: str
    region: str
    hall_id: str | None
    tariff_id: str
    contract_capacity_kva: float | None
    has_app: bool
    push_consent: bool
    phone: str | None
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class Shown:
    suggestion_id: str
    kind: str
    item_id: str
    channel: str
    at: datetime


@dataclass(frozen=True)
class Feedback:
    suggestion_id: str
    kind: str
    item_id: str
    outcome: str
    at: datetime


@dataclass(frozen=True)
class ContactHistory:
    """What the caller read from the database for one customer: what was shown, answered
    and pushed in the last 365 days, and the kinds they opted out of."""

    shown: tuple[Shown, ...] = ()
    outcomes: tuple[Feedback, ...] = ()
    pushes: tuple[datetime, ...] = ()
    """App pushes queued or delivered."""
    opted_out: frozenset[str] = frozenset()
    """Suggestion kinds the customer asked not to receive (`serving.preferences`)."""


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    """In the requested language."""


@dataclass(frozen=True)
class Suggestion:
    suggestion_id: str
    """Stable: uuid5 of (customer_id, kind, item_id), so feedback finds it again."""
    kind: str
    item_id: str
    rank: int
    title: str
    message: str
    script: str
    """One line for counter staff."""
    reasons: tuple[Reason, ...]
    saving_cny: float | None
    saving_p10_cny: float | None
    saving_p90_cny: float | None
    confidence: float
    expected_value: float

    def payload(self) -> dict[str, Any]:
        """The suggestion as the JSON its shown row keeps (the inbox and pushes show it
        again from there); `dataclasses.asdict` deep-copies every field, a cost each
        answer paid."""
        return vars(self) | {"reasons": [{"code": r.code, "text": r.text} for r in self.reasons]}


@dataclass(frozen=True)
class Risk:
    name: str
    """churn | complaint"""
    probability: float
    level: str
    """low | medium | high"""
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Answer:
    customer_id: str
    channel: Channel
    suggestions: tuple[Suggestion, ...]
    risks: tuple[Risk, ...]
    model_versions: dict[str, str]
    degraded: bool
    cold_start: bool
    excluded: dict[str, int]
    """Policy rule -> candidates it removed."""
    profile_summary: dict[str, float | str | None]
    """Annual kWh, trend, average bill, segment... for the counter screen."""
