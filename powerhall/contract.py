"""The data contract: table names, column names and enumerations shared by every part.

Column names live here once (as the Microsoft Recommenders habit has it) so that the
generator, the ingest validator, the profile builder and the service never disagree on a
spelling. The row-level rules (types, ranges, keys) are enforced by the pandera schemas in
`powerhall.ingest.schemas`, which are built from these constants.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

HOURS: Final = range(24)
KWH_COLUMNS: Final[tuple[str, ...]] = tuple(f"kwh_{h:02d}" for h in HOURS)
"""Hourly consumption columns of a readings row; hour h covers [h:00, h+1:00) local time."""


class Segment(StrEnum):
    RESIDENTIAL = "residential"
    COMMERCIAL = "commercial"
    INDUSTRIAL = "industrial"


class Region(StrEnum):
    """Supply regions; each has its own published tariffs (see `powerhall/tariffs/files`)."""

    SHANGHAI = "shanghai"
    ZHEJIANG = "zhejiang"
    JIANGSU = "jiangsu"
    BEIJING = "beijing"


class ReadingQuality(StrEnum):
    ACTUAL = "actual"
    ESTIMATED = "estimated"


class EventKind(StrEnum):
    HALL_VISIT = "hall_visit"
    CALL_95598 = "call_95598"
    COMPLAINT = "complaint"
    OUTAGE = "outage"
    SURVEY = "survey"
    APP_LOGIN = "app_login"
    METER_FAULT = "meter_fault"
    PAYMENT = "payment"


class Channel(StrEnum):
    """Where a service event happened or a suggestion was shown."""

    HALL = "hall"
    PHONE = "phone"
    APP = "app"
    GRID = "grid"  # events the network itself reports (outages, meter faults)
    COUNTER = "counter"


class SuggestionKind(StrEnum):
    TARIFF = "tariff"
    TIP = "tip"
    RETENTION = "retention"
    SERVICE_RECOVERY = "service_recovery"


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    DISMISSED = "dismissed"
    CLICKED = "clicked"
    IGNORED = "ignored"


class Table(StrEnum):
    CUSTOMERS = "customers"
    READINGS = "readings"
    BILLS = "bills"
    SERVICE_EVENTS = "service_events"
    SUGGESTION_OUTCOMES = "suggestion_outcomes"


CUSTOMER_COLUMNS: Final = (
    "customer_id",
    "account_no",  # printed on the bill; what a counter's reader scans besides the ID card
    "segment",
    "region",
    "hall_id",
    "tariff_id",
    "contract_capacity_kva",  # commercial and industrial only; null for residential
    "has_app",
    "push_consent",
    "phone",  # personal data: masked in every response
    "created_at",
    "closed_at",
)
READING_COLUMNS: Final = ("customer_id", "date", *KWH_COLUMNS, "quality", "max_demand_kw")
BILL_COLUMNS: Final = (
    "customer_id",
    "period",
    "kwh",
    "amount_cny",
    "tariff_id",
    "due_date",
    "paid_at",
)
SERVICE_EVENT_COLUMNS: Final = (
    "event_id",
    "customer_id",
    "ts",
    "kind",
    "channel",
    "wait_minutes",
    "satisfaction",
    "text",
)
SUGGESTION_OUTCOME_COLUMNS: Final = (
    "suggestion_id",
    "customer_id",
    "kind",
    "item_id",
    "channel",
    "shown_at",
    "outcome",
    "outcome_at",
)

TABLE_COLUMNS: Final[dict[Table, tuple[str, ...]]] = {
    Table.CUSTOMERS: CUSTOMER_COLUMNS,
    Table.READINGS: READING_COLUMNS,
    Table.BILLS: BILL_COLUMNS,
    Table.SERVICE_EVENTS: SERVICE_EVENT_COLUMNS,
    Table.SUGGESTION_OUTCOMES: SUGGESTION_OUTCOME_COLUMNS,
}

TABLE_KEYS: Final[dict[Table, tuple[str, ...]]] = {
    Table.CUSTOMERS: ("customer_id",),
    Table.READINGS: ("customer_id", "date"),
    Table.BILLS: ("customer_id", "period"),
    Table.SERVICE_EVENTS: ("event_id",),
    Table.SUGGESTION_OUTCOMES: ("suggestion_id",),
}
"""Primary keys: a row whose key already exists in the lake replaces the old row."""

LOCAL_TIMEZONE: Final = "Asia/Shanghai"
"""Timestamps are stored in UTC; reading dates, billing periods and quiet hours are local."""
