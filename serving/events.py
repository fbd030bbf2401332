"""Real-time events received by the API: kept once per `event_id`, pushed to the online
store so that the next answer for the customer sees them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from features.online import OnlineProfiles
from serving.db.tables import Event
from serving.schemas import EventCreate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Received:
    stored: bool
    pushed: bool


def receive_event(
    session: Session, *, event: EventCreate, profiles: OnlineProfiles | None, now: datetime
) -> Received:
    """Store the event (a repeated `event_id` changes nothing) and push it online.

    The database row is committed first: if the push fails (store unreachable) the event
    is still kept, and the batch profiles will count it after the next ingest.
    """
    known = session.scalar(select(Event.id).where(Event.event_id == event.event_id))
    if known is not None:
        return Received(stored=False, pushed=False)
    session.add(
        Event(
            event_id=event.event_id,
            customer_id=event.customer_id,
            kind=str(event.kind),
            ts=event.ts,
            payload=event.model_dump(mode="json"),
            received_at=now,
        )
    )
    try:
        session.commit()
    except IntegrityError:  # the same event_id arrived concurrently
        session.rollback()
        return Received(stored=False, pushed=False)
    if profiles is None:
        return Received(stored=True, pushed=False)
    try:
        profiles.record_event(event.customer_id, event.kind, event.ts)
    except Exception as exc:  # any store failure: the event is kept, the push is not
        logger.warning("event %s stored but not pushed online: %s", event.event_id, exc)
        return Received(stored=True, pushed=False)
    return Received(stored=True, pushed=True)
