"""The outbox's queries: claiming due pushes with a lease, settling what a delivery did,
and the depth and status an operator watches.

A claim is one statement, `UPDATE outbox … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP
LOCKED) RETURNING …`: on PostgreSQL, dispatchers running side by side skip each other's
locked rows instead of waiting or delivering them twice; SQLite leaves out the locking
clause and serialises the whole UPDATE under its write lock, which makes the claim just
as atomic. A claim holds rows for a lease: a dispatcher killed mid-batch leaves its rows
`sending`, and another claims them again once the lease has run out (the gateway drops
the repeat by its idempotency key). `attempts` counts claims, so a push that keeps
killing dispatchers still reaches the retry limit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from serving.push.tables import ERROR_TEXT, DeadLetter, OutboxMessage, OutboxStatus

WAITING = (OutboxStatus.PENDING, OutboxStatus.SENDING)
"""Statuses of pushes not delivered nor given up yet: the outbox depth."""


def idempotency_key(campaign_id: str, customer_id: str, suggestion_id: str) -> str:
    """The same push of the same campaign always gets the same key (uuid5)."""
    return str(uuid.uuid5(uuid.UUID(campaign_id), f"{customer_id}/{suggestion_id}"))


@dataclass(frozen=True)
class Claimed:
    """A claimed push, read out of the session: delivery runs without a transaction open."""

    id: int
    campaign_id: str
    customer_id: str
    suggestion_id: str
    payload: dict[str, Any]
    idempotency_key: str
    attempts: int
    """Claims so far, this one included."""


def claim(
    session: Session, *, worker: str, limit: int, now: datetime, lease: timedelta
) -> list[Claimed]:
    """Up to `limit` due pushes, oldest first, marked `sending` for `worker` until
    `now + lease`, and committed: the lease starts before any delivery does."""
    due = or_(
        and_(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
        ),
        and_(
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_until < now,
        ),
    )
    chosen = (
        select(OutboxMessage.id)
        .where(due)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(chosen))
        .values(
            status=OutboxStatus.SENDING,
            claimed_by=worker,
            claimed_until=now + lease,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(
            OutboxMessage.id,
            OutboxMessage.campaign_id,
            OutboxMessage.customer_id,
            OutboxMessage.suggestion_id,
            OutboxMessage.payload,
            OutboxMessage.idempotency_key,
            OutboxMessage.attempts,
        )
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    return sorted((Claimed(*row) for row in claimed), key=lambda c: c.id)


def _held(message_id: int, worker: str) -> Any:
    """Only the claimer may settle a row: after its lease ran out another may hold it."""
    return and_(
        OutboxMessage.id == message_id,
        OutboxMessage.claimed_by == worker,
        OutboxMessage.status == OutboxStatus.SENDING,
    )


def _cut(error: str) -> str:
    return error[: ERROR_TEXT.length]


def mark_delivered(
    session: Session, *, message_ids: Sequence[int], worker: str, now: datetime
) -> int:
    """Record deliveries in one statement; returns how many rows were still this worker's."""
    if not message_ids:
        return 0
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(message_ids),
            OutboxMessage.claimed_by == worker,
            OutboxMessage.status == OutboxStatus.SENDING,
        )
        .values(
            status=OutboxStatus.DELIVERED,
            delivered_at=now,
            claimed_by=None,
            claimed_until=None,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


def schedule_retry(
    session: Session, *, message_id: int, worker: str, at: datetime, error: str
) -> bool:
    """Put a failed push back as pending until `at`; False when no longer this worker's."""
    result = session.execute(
        update(OutboxMessage)
        .where(_held(message_id, worker))
        .values(
            status=OutboxStatus.PENDING,
            next_attempt_at=at,
            claimed_by=None,
            claimed_until=None,
            last_error=_cut(error),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def bury(session: Session, *, message_id: int, worker: str, now: datetime, error: str) -> bool:
    """Give up on a push: marked dead and copied to the dead letters, in the caller's
    transaction; False when the row is no longer this worker's."""
    row = session.execute(
        update(OutboxMessage)
        .where(_held(message_id, worker))
        .values(
            status=OutboxStatus.DEAD,
            claimed_by=None,
            claimed_until=None,
            last_error=_cut(error),
        )
        .returning(OutboxMessage.customer_id, OutboxMessage.payload, OutboxMessage.attempts)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return False
    session.add(
        DeadLetter(
            outbox_id=message_id,
            customer_id=row.customer_id,
            payload=row.payload,
            attempts=row.attempts,
            last_error=_cut(error),
            died_at=now,
        )
    )
    return True


def depth(session: Session) -> int:
    """Pushes waiting for delivery (pending or being sent): the metric an operator alerts on."""
    waiting = select(func.count()).where(OutboxMessage.status.in_(WAITING))
    return int(session.scalar(waiting) or 0)


@dataclass(frozen=True)
class OutboxStatusReport:
    by_status: dict[str, int]
    dead_letters: int
    oldest_waiting: datetime | None
    """Creation time of the oldest push not yet delivered nor dead."""
    recent_dead: Sequence[DeadLetter]


def status_report(session: Session, *, recent: int = 5) -> OutboxStatusReport:
    counts = dict.fromkeys((str(s) for s in OutboxStatus), 0)
    rows = session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    counts |= {status: int(n) for status, n in rows}
    oldest = session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status.in_(WAITING))
    )
    dead = session.scalar(select(func.count()).select_from(DeadLetter)) or 0
    latest = session.scalars(
        select(DeadLetter).order_by(DeadLetter.died_at.desc(), DeadLetter.id.desc()).limit(recent)
    ).all()
    return OutboxStatusReport(counts, int(dead), oldest, latest)
