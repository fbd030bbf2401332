"""Contact histories of many customers at once, for planning a campaign.

Three queries per chunk of customers (what was shown, what they answered, which pushes
were queued) instead of three per customer. A push counts from the moment it is queued
in the outbox until it is delivered; a dead one never reached the customer and does not
count against the caps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from serving.db.tables import SuggestionOutcome, SuggestionServed
from serving.push.tables import OutboxMessage, OutboxStatus
from serving.suggestions.model import ContactHistory, Feedback, Shown

HISTORY_SPAN: Final = timedelta(days=365)
"""The engine's policy looks back at most this far."""
CHUNK: Final = 500
"""Customer ids per IN list (well under SQLite's and PostgreSQL's parameter limits)."""


def read_histories(
    session: Session, customer_ids: Sequence[str], *, now: datetime
) -> dict[str, ContactHistory]:
    """Every customer's history of the last 365 days (an empty one when there is none)."""
    since = now - HISTORY_SPAN
    shown: dict[str, list[Shown]] = defaultdict(list)
    outcomes: dict[str, list[Feedback]] = defaultdict(list)
    pushes: dict[str, list[datetime]] = defaultdict(list)
    for start in range(0, len(customer_ids), CHUNK):
        chunk = list(customer_ids[start : start + CHUNK])
        served = select(
            SuggestionServed.customer_id,
            SuggestionServed.suggestion_id,
            SuggestionServed.kind,
            SuggestionServed.item_id,
            SuggestionServed.channel,
            SuggestionServed.shown_at,
        ).where(SuggestionServed.customer_id.in_(chunk), SuggestionServed.shown_at > since)
        for customer_id, *fields in session.execute(served):
            shown[customer_id].append(Shown(*fields))
        answered = select(
            SuggestionOutcome.customer_id,
            SuggestionOutcome.suggestion_id,
            SuggestionOutcome.kind,
            SuggestionOutcome.item_id,
            SuggestionOutcome.outcome,
            SuggestionOutcome.outcome_at,
        ).where(SuggestionOutcome.customer_id.in_(chunk), SuggestionOutcome.outcome_at > since)
        for customer_id, *fields in session.execute(answered):
            outcomes[customer_id].append(Feedback(*fields))
        queued = select(OutboxMessage.customer_id, OutboxMessage.created_at).where(
            OutboxMessage.customer_id.in_(chunk),
            OutboxMessage.created_at > since,
            OutboxMessage.status != OutboxStatus.DEAD,
        )
        for customer_id, at in session.execute(queued):
            pushes[customer_id].append(at)
    return {
        cid: ContactHistory(tuple(shown[cid]), tuple(outcomes[cid]), tuple(pushes[cid]))
        for cid in customer_ids
    }
