"""Request and response models of the core routes, with examples for OpenAPI.

Personal data never appears unmasked: `CustomerPublic` carries the masked phone and
account number only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from powerhall.contract import EventKind

SUGGESTION_ID_EXAMPLE = "6f1c2b7e-3d7a-5b1e-9c55-0d6f8a2e4b11"


class CustomerPublic(BaseModel):
    """Who the answer is about, masked (personal-information law)."""

    customer_id: str = Field(examples=["C000123"])
    account_no: str | None = Field(examples=["*****1234"], description="Masked.")
    phone: str | None = Field(examples=["138****5678"], description="Masked.")
    segment: str = Field(examples=["residential"])
    region: str = Field(examples=["shanghai"])
    hall_id: str | None = Field(examples=["H01"])


class ReasonPublic(BaseModel):
    code: str = Field(examples=["night_share_high"])
    text: str = Field(examples=["夜间用电占比高"])


class SuggestionPublic(BaseModel):
    suggestion_id: str = Field(examples=[SUGGESTION_ID_EXAMPLE], description="Stable per item.")
    kind: (
        Literal["tariff", "tip", "retention", "service_recovery", "peer_comparison", "bill_alert"]
        | str
    ) = Field(examples=["tariff"])
    item_id: str = Field(examples=["sh-res-tou"])
    rank: int = Field(examples=[1])
    title: str = Field(examples=["改用峰谷电价"])
    message: str = Field(examples=["按您过去一年的用电，预计每年可节省约 320 元。"])
    script: str = Field(examples=["建议客户改用峰谷电价，年省约 320 元。"])
    reasons: list[ReasonPublic]
    saving_cny: float | None = Field(examples=[320.0], description="Expected yearly saving.")
    saving_p10_cny: float | None = Field(examples=[180.0])
    saving_p90_cny: float | None = Field(examples=[450.0])
    confidence: float = Field(examples=[0.8])
    expected_value: float = Field(examples=[96.0])


class RiskPublic(BaseModel):
    name: str = Field(examples=["churn"])
    probability: float = Field(examples=[0.12])
    level: str = Field(examples=["medium"])
    reasons: list[ReasonPublic]


class SuggestionsAnswer(BaseModel):
    customer: CustomerPublic
    channel: Literal["counter", "app"]
    suggestions: list[SuggestionPublic]
    risks: list[RiskPublic]
    model_versions: dict[str, str] = Field(examples=[{"churn": "3", "complaint": "5"}])
    degraded: bool = Field(description="True: the online store was unreachable (defaults).")
    cold_start: bool = Field(description="True: nothing is known of the customer yet.")
    excluded: dict[str, int] = Field(
        examples=[{"recently_shown": 1}], description="Policy rule -> candidates removed."
    )
    profile_summary: dict[str, float | str | None]


class InboxItem(SuggestionPublic):
    shown_at: datetime


class Inbox(BaseModel):
    """The app's inbox: suggestions shown on the app and not answered yet, newest first."""

    customer: CustomerPublic
    items: list[InboxItem]
    degraded: bool


FeedbackOutcome = Literal["shown", "accepted", "declined", "dismissed", "clicked"]


class FeedbackCreate(BaseModel):
    outcome: FeedbackOutcome = Field(examples=["accepted"])
    customer_id: str | None = Field(
        None, max_length=64, description="If given, must be the suggestion's customer."
    )
    staff_id: str | None = Field(None, max_length=64, examples=["S0042"])
    hall_id: str | None = Field(None, max_length=64, examples=["H01"])
    counter_id: str | None = Field(None, max_length=64, examples=["3"])


class FeedbackRecorded(BaseModel):
    feedback_id: int
    suggestion_id: str = Field(examples=[SUGGESTION_ID_EXAMPLE])
    customer_id: str
    kind: str
    item_id: str
    channel: str
    outcome: FeedbackOutcome
    outcome_at: datetime


class EventCreate(BaseModel):
    event_id: str = Field(min_length=1, max_length=64, examples=["E-2026-000001"])
    customer_id: str = Field(min_length=1, max_length=64, examples=["C000123"])
    kind: EventKind = Field(
        examples=["outage"], description="Pushed kinds: complaint, outage, app_login."
    )
    ts: datetime = Field(examples=["2026-03-01T08:30:00+08:00"], description="With a zone.")


class EventRecorded(BaseModel):
    event_id: str
    stored: bool = Field(description="False: this event_id was already received.")
    pushed: bool = Field(description="True: the online profile shows it from now on.")


class AcceptanceRow(BaseModel):
    group: str | None = Field(examples=["H01"])
    shown: int
    accepted: int
    declined: int
    acceptance_rate: float | None = Field(description="accepted / shown; null when none shown")


class AcceptanceReport(BaseModel):
    group_by: Literal["hall", "counter", "staff", "kind"]
    since: datetime | None
    rows: list[AcceptanceRow]


class CustomerPreferences(BaseModel):
    """What the customer agreed to receive; `PUT` replaces all of it."""

    model_config = ConfigDict(extra="forbid")

    peer_comparison: bool = Field(
        strict=True,
        examples=[False],
        description="Whether the app may compare the customer's use with similar homes "
        "(true until the customer opts out).",
    )


class ModelsReloaded(BaseModel):
    model_versions: dict[str, str] = Field(examples=[{"churn": "4", "complaint": "5"}])
    loaded: dict[str, str]
    failed: dict[str, str] = Field(description="Model -> why; its last good version serves.")
