"""Customers' answers to suggestions: stored once per idempotency key, exported to the
lake's `suggestion_outcomes` table for the engagement features and retraining."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from powerhall.contract import CONTRACT_SCHEMAS, SUGGESTION_OUTCOME_COLUMNS, Outcome, Table
from powerhall.ingest.lake import LakeWriter
from serving.auth import Caller
from serving.db.tables import SuggestionOutcome, SuggestionServed
from serving.schemas import FeedbackCreate

EXPORTED_OUTCOMES = frozenset(str(o) for o in Outcome)
"""Outcomes the contract's table takes; `shown` is already in `suggestions_served`."""
MARK_BATCH = 1_000
"""Ids per UPDATE … IN list (under every backend's parameter limit)."""


class IdempotencyConflictError(Exception):
    """The idempotency key was used before with another request."""


@dataclass(frozen=True)
class Recorded:
    row: SuggestionOutcome
    created: bool


def last_shown(session: Session, suggestion_id: str) -> SuggestionServed | None:
    return session.scalars(
        select(SuggestionServed)
        .where(SuggestionServed.suggestion_id == suggestion_id)
        .order_by(SuggestionServed.shown_at.desc(), SuggestionServed.id.desc())
        .limit(1)
    ).first()


def request_hash(suggestion_id: str, body: FeedbackCreate) -> str:
    canonical = json.dumps([suggestion_id, body.model_dump(mode="json")], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_outcome(
    session: Session,
    *,
    served: SuggestionServed,
    body: FeedbackCreate,
    caller: Caller,
    idempotency_key: str,
    now: datetime,
) -> Recorded:
    """Store the outcome, or return the one stored under the same key for the same request.

    Raises `IdempotencyConflictError` when the key was used for a different request.
    """
    digest = request_hash(served.suggestion_id, body)
    existing = _by_key(session, idempotency_key)
    if existing is not None:
        return _replayed(existing, digest)
    row = SuggestionOutcome(
        suggestion_id=served.suggestion_id,
        customer_id=served.customer_id,
        kind=served.kind,
        item_id=served.item_id,
        channel=served.channel,
        outcome=body.outcome,
        shown_at=served.shown_at,
        outcome_at=now,
        hall_id=body.hall_id or served.hall_id,
        counter_id=body.counter_id or served.counter_id,
        staff_id=body.staff_id,
        key_id=caller.key_id,
        idempotency_key=idempotency_key,
        request_hash=digest,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # a concurrent request with the same key won the race
        session.rollback()
        existing = _by_key(session, idempotency_key)
        if existing is None:
            raise
        return _replayed(existing, digest)
    return Recorded(row, created=True)


def _by_key(session: Session, idempotency_key: str) -> SuggestionOutcome | None:
    return session.scalars(
        select(SuggestionOutcome).where(SuggestionOutcome.idempotency_key == idempotency_key)
    ).first()


def _replayed(existing: SuggestionOutcome, digest: str) -> Recorded:
    if existing.request_hash != digest:
        raise IdempotencyConflictError(existing.idempotency_key)
    return Recorded(existing, created=False)


def export_outcomes(session: Session, *, lake_dir: Path, timezone: str, now: datetime) -> int:
    """Write the outcomes not exported yet into the lake; returns how many rows it wrote.

    The lake keeps one row per suggestion (its key), so the latest outcome of each
    suggestion is written; every exported row is marked, and a second run writes nothing.
    """
    pending = list(
        session.scalars(
            select(SuggestionOutcome)
            .where(SuggestionOutcome.exported_at.is_(None))
            .order_by(SuggestionOutcome.outcome_at, SuggestionOutcome.id)
        )
    )
    latest: dict[str, SuggestionOutcome] = {
        row.suggestion_id: row for row in pending if row.outcome in EXPORTED_OUTCOMES
    }
    if latest:
        rows = [
            {column: getattr(row, column) for column in SUGGESTION_OUTCOME_COLUMNS}
            for row in latest.values()
        ]
        table = pa.Table.from_pylist(rows, schema=CONTRACT_SCHEMAS[Table.SUGGESTION_OUTCOMES])
        with LakeWriter(lake_dir, timezone=timezone) as writer:
            writer.stage(Table.SUGGESTION_OUTCOMES, table)
            writer.commit()
    ids = [row.id for row in pending]
    for start in range(0, len(ids), MARK_BATCH):
        session.execute(
            update(SuggestionOutcome)
            .where(SuggestionOutcome.id.in_(ids[start : start + MARK_BATCH]))
            .values(exported_at=now)
        )
    session.commit()
    return len(latest)
