"""The service's tables: customer directory, API keys, counter sessions, what was shown,
what customers answered, real-time events and the audit trail.

Every time is aware UTC. Ids of customers and suggestions are text, as in the contract.
`versions/0001_core.py` creates exactly these tables and `0003_preferences.py` adds the
customers' preferences (a test compares the migrations with the models).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, true
from sqlalchemy.orm import Mapped, mapped_column

from serving.db.base import Base
from serving.db.types import UtcDateTime

ID = String(64)
"""Customer, hall, counter, staff and item ids."""
NAME = String(32)
"""Short enumerations: segment, region, role, kind, channel, outcome."""


class Customer(Base):
    """The directory: one row per contract `customers` row, synced from the lake, plus the
    preferences the customer set through the API (`serving.preferences`), which the sync
    never touches."""

    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(ID, primary_key=True)
    account_no: Mapped[str | None] = mapped_column(ID, unique=True)
    segment: Mapped[str] = mapped_column(NAME)
    region: Mapped[str] = mapped_column(NAME)
    hall_id: Mapped[str | None] = mapped_column(ID, index=True)
    tariff_id: Mapped[str] = mapped_column(ID)
    contract_capacity_kva: Mapped[float | None] = mapped_column(Float)
    has_app: Mapped[bool] = mapped_column(Boolean)
    push_consent: Mapped[bool] = mapped_column(Boolean)
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    peer_comparison: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    """Whether the app may compare the customer's use with similar homes (opt-out)."""


class ApiKey(Base):
    """A caller of the API; only the token's SHA-256 is kept, never the token."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(NAME)
    hall_id: Mapped[str | None] = mapped_column(ID)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CounterSession(Base):
    """A customer identified at a counter: what lets that hall's keys see the customer."""

    __tablename__ = "counter_sessions"
    __table_args__ = (Index("ix_counter_sessions_customer_hall", "customer_id", "hall_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hall_id: Mapped[str] = mapped_column(ID)
    counter_id: Mapped[str] = mapped_column(ID)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    identified_by: Mapped[str] = mapped_column(NAME)
    staff_id: Mapped[str | None] = mapped_column(ID)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SuggestionServed(Base):
    """One row each time a suggestion is shown: the contact history the policy reads."""

    __tablename__ = "suggestions_served"
    __table_args__ = (Index("ix_suggestions_served_customer_shown", "customer_id", "shown_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    suggestion_id: Mapped[str] = mapped_column(String(36), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    kind: Mapped[str] = mapped_column(NAME)
    item_id: Mapped[str] = mapped_column(ID)
    channel: Mapped[str] = mapped_column(NAME)
    hall_id: Mapped[str | None] = mapped_column(ID)
    counter_id: Mapped[str | None] = mapped_column(ID)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    shown_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SuggestionOutcome(Base):
    """A customer's answer to a shown suggestion, stored once per idempotency key.

    `request_hash` tells a retry (same body) from a conflicting reuse of the key;
    `exported_at` marks the rows already written to the lake for retraining.
    """

    __tablename__ = "suggestion_outcomes"
    __table_args__ = (Index("ix_suggestion_outcomes_customer_at", "customer_id", "outcome_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    suggestion_id: Mapped[str] = mapped_column(String(36), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    kind: Mapped[str] = mapped_column(NAME)
    item_id: Mapped[str] = mapped_column(ID)
    channel: Mapped[str] = mapped_column(NAME)
    outcome: Mapped[str] = mapped_column(NAME)
    shown_at: Mapped[datetime] = mapped_column(UtcDateTime())
    outcome_at: Mapped[datetime] = mapped_column(UtcDateTime())
    hall_id: Mapped[str | None] = mapped_column(ID)
    counter_id: Mapped[str | None] = mapped_column(ID)
    staff_id: Mapped[str | None] = mapped_column(ID)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    exported_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)


class Event(Base):
    """A real-time event received by the API, kept once per `event_id`."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ID, unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    kind: Mapped[str] = mapped_column(NAME)
    ts: Mapped[datetime] = mapped_column(UtcDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AuditEntry(Base):
    """Who looked at which customer's profile, when and why (personal-information law)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    role: Mapped[str] = mapped_column(NAME)
    customer_id: Mapped[str] = mapped_column(ID, index=True)
    action: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(256))
    path: Mapped[str] = mapped_column(String(512))
