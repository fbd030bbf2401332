"""The push tables: campaigns, the transactional outbox, and the dead letters.

A campaign's outbox rows are written in the transaction that writes the campaign and
its `suggestions_served` rows, so a push is queued exactly when it is recorded as shown;
dispatchers then deliver the rows and never create any. `versions/0002_push.py` creates
exactly these tables (the migration test compares the two).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from serving.db.base import Base
from serving.db.tables import ID, NAME
from serving.db.types import UtcDateTime

UUID_TEXT = String(36)
ERROR_TEXT = String(512)
"""Longest error kept for a push (a gateway's answer is cut to it)."""


class OutboxStatus(StrEnum):
    PENDING = "pending"
    """Waiting for its `next_attempt_at`."""
    SENDING = "sending"
    """Claimed by a dispatcher until `claimed_until`."""
    DELIVERED = "delivered"
    DEAD = "dead"
    """Given up: copied to `dead_letters`."""


class Campaign(Base):
    """One planned and run push campaign: who asked, for whom, and what the plan counted."""

    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(UUID_TEXT, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    kinds: Mapped[list[str]] = mapped_column(JSON)
    """Suggestion kinds the campaign pushes."""
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The request's segments, regions and customer ids (null: all)."""
    created_by: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    stats: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The plan's counts (customers, messages, exclusions per rule), as the dry run shows."""


class OutboxMessage(Base):
    """A push to deliver; `idempotency_key` goes to the gateway, which drops repeats."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_outbox_customer_created", "customer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    suggestion_id: Mapped[str] = mapped_column(UUID_TEXT)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    idempotency_key: Mapped[str] = mapped_column(UUID_TEXT, unique=True)
    status: Mapped[str] = mapped_column(NAME)
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(ERROR_TEXT)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class DeadLetter(Base):
    """A push given up on, kept whole for an operator to inspect or requeue."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), unique=True)
    customer_id: Mapped[str] = mapped_column(ID)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(ERROR_TEXT)
    died_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
