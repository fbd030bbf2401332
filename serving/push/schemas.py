"""Request and response models of `/v1/campaigns`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from powerhall.contract import Segment, SuggestionKind

PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
"""No control characters: PostgreSQL refuses NUL in text, and names end up in logs."""
CustomerId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=PRINTABLE)]
RegionName = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=PRINTABLE)]

EXAMPLE_EXCLUDED = {
    "no_app": 1,
    "no_consent": 2,
    "quiet_hours": 0,
    "accepted": 0,
    "declined_kind": 1,
    "recently_shown": 3,
    "one_per_kind": 4,
    "weekly_cap": 1,
    "monthly_cap": 0,
    "no_candidate": 1,
    "closed": 0,
    "other_kind": 5,
    "over_limit": 2,
}


class CampaignCreate(BaseModel):
    """Who to push to and what; `dry_run: true` only plans, `false` queues the pushes."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "2026 spring tariff review",
                    "kinds": ["tariff", "tip"],
                    "segments": ["residential"],
                    "regions": ["shanghai"],
                    "limit_per_customer": 1,
                    "dry_run": True,
                }
            ]
        },
    )

    name: str = Field(
        min_length=1, max_length=128, pattern=PRINTABLE, description="Shown to operators only."
    )
    kinds: list[SuggestionKind] | None = Field(
        None, min_length=1, description="Suggestion kinds to push; all kinds when left out."
    )
    segments: list[Segment] | None = Field(
        None, min_length=1, description="Only customers of these segments."
    )
    regions: list[RegionName] | None = Field(
        None, min_length=1, description="Only customers of these regions."
    )
    customer_ids: list[CustomerId] | None = Field(
        None,
        min_length=1,
        max_length=10_000,
        description="Only these customers (each must be in the directory).",
    )
    limit_per_customer: int = Field(1, ge=1, le=4, description="Pushes per customer at most.")
    language: Literal["zh-CN", "en"] = Field(
        "zh-CN", description="Language of the pushed title and message."
    )
    dry_run: bool = Field(description="true: plan only, write nothing; false: queue the pushes.")


class PlannedPush(BaseModel):
    suggestion_id: str
    kind: str = Field(examples=["tariff"])
    item_id: str = Field(examples=["shanghai-res-tou"])
    title: str
    message: str


class Recipient(BaseModel):
    """A customer who gets pushes, identity masked (the plan is for operators)."""

    customer: str = Field(description="Customer id, masked.", examples=["*****0042"])
    phone: str | None = Field(description="Masked.", examples=["138****5678"])
    segment: str = Field(examples=["residential"])
    region: str = Field(examples=["shanghai"])
    pushes: list[PlannedPush]


class CampaignPlan(BaseModel):
    """What a campaign does (or did): how many get what, and why the others do not."""

    campaign_id: str | None = Field(
        description="Null for a dry run.", examples=["8b0e0f7e-2f4c-4d38-9a5e-0c1e9c0b2d11"]
    )
    name: str
    dry_run: bool
    customers: int = Field(description="Customers of the audience.", examples=[120])
    recipients: int = Field(description="Customers who get at least one push.", examples=[84])
    messages: int = Field(description="Pushes planned (queued when not a dry run).", examples=[84])
    by_kind: dict[str, int] = Field(examples=[{"tariff": 50, "tip": 34}])
    excluded: dict[str, int] = Field(
        description="Suggestions each contact-policy rule removed (the engine's counts, "
        "summed over customers); `no_candidate`: customers with nothing to suggest at all; "
        "`closed`: closed accounts skipped; `other_kind`: suggestions of kinds the campaign "
        "does not push; `over_limit`: suggestions beyond `limit_per_customer`.",
        examples=[EXAMPLE_EXCLUDED],
    )
    degraded: int = Field(
        description="Customers planned from segment defaults: the online store was unreachable.",
        examples=[0],
    )
    sample: list[Recipient] = Field(description="Up to 20 recipients.")
