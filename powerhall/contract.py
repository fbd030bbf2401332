"""The data contract: table names, column names, enumerations, keys and Arrow types.

They live here once (as the Microsoft Recommenders habit has it) so that the generator,
the ingest validator, the lake, the profile builder and the service never disagree on a
spelling or a type. The row-level rules (ranges, enums, keys, cross-table rules) are
enforced by the pandera schemas in `powerhall.ingest.schemas`, built from these constants.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import pyarrow as pa

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
    PEER_COMPARISON = "peer_comparison"  # app only: use beside similar homes (never shaming)
    BILL_ALERT = "bill_alert"  # this month's bill well above the usual, or a tier near


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

UTC_TIMESTAMP: Final = pa.timestamp("us", tz="UTC")

_NON_NULL: Final[dict[Table, frozenset[str]]] = {
    Table.CUSTOMERS: frozenset(
        {
            "customer_id",
            "segment",
            "region",
            "hall_id",
            "tariff_id",
            "has_app",
            "push_consent",
            "created_at",
        }
    ),
    Table.READINGS: frozenset({"customer_id", "date", "quality"}),
    Table.BILLS: frozenset({"customer_id", "period", "kwh", "amount_cny", "tariff_id", "due_date"}),
    Table.SERVICE_EVENTS: frozenset({"event_id", "customer_id", "ts", "kind", "channel"}),
    Table.SUGGESTION_OUTCOMES: frozenset(
        {"suggestion_id", "customer_id", "kind", "item_id", "channel", "shown_at", "outcome"}
    ),
}

_TYPES: Final[dict[Table, dict[str, pa.DataType]]] = {
    Table.CUSTOMERS: {
        "contract_capacity_kva": pa.float64(),
        "has_app": pa.bool_(),
        "push_consent": pa.bool_(),
        "created_at": UTC_TIMESTAMP,
        "closed_at": UTC_TIMESTAMP,
    },
    Table.READINGS: {
        "date": pa.date32(),
        **dict.fromkeys(KWH_COLUMNS, pa.float64()),
        "max_demand_kw": pa.float64(),
    },
    Table.BILLS: {
        "kwh": pa.float64(),
        "amount_cny": pa.float64(),
        "due_date": pa.date32(),
        "paid_at": UTC_TIMESTAMP,
    },
    Table.SERVICE_EVENTS: {
        "ts": UTC_TIMESTAMP,
        "wait_minutes": pa.float64(),
        "satisfaction": pa.int64(),
    },
    Table.SUGGESTION_OUTCOMES: {"shown_at": UTC_TIMESTAMP, "outcome_at": UTC_TIMESTAMP},
}
"""Non-text columns; every other contract column is text (ids are text, never numbers)."""


def _schema(table: Table, columns: tuple[str, ...]) -> pa.Schema:
    types = _TYPES[table]
    return pa.schema(
        pa.field(name, types.get(name, pa.string()), nullable=name not in _NON_NULL[table])
        for name in columns
    )


CONTRACT_SCHEMAS: Final[dict[Table, pa.Schema]] = {
    table: _schema(table, columns) for table, columns in TABLE_COLUMNS.items()
}
"""Physical (Arrow) type of every contract column, as the generator writes it and the lake
stores it; a field's `nullable` says whether it may be null."""

LOCAL_TIMEZONE: Final = "Asia/Shanghai"
"""Timestamps are stored in UTC; reading dates, billing periods and quiet hours are local."""
