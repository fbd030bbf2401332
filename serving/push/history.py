"""Contact histories of many customers at once, for planning a campaign, or of one, for
every answer served.

Three queries per chunk of customers (what was shown, what they answered, which pushes
were queued) instead of three per customer, and one for the kinds they opted out of. A
push counts from the moment it is queued in the outbox until it is delivered; a dead one
never reached the customer and does not count against the caps.

The three statements are built once, with the customer ids and the start of the span as
parameters, and run on the session's connection: built per call and run through the
session, they cost an answer about a millisecond, four fifths of it SQLAlchemy's own work
(building, cache keys, ORM execution), not the database's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import BindParameter, bindparam, select
from sqlalchemy.orm import Session

from serving.db.tables import SuggestionOutcome, SuggestionServed
from serving.preferences import opted_out_kinds
from serving.push.tables import OutboxMessage, OutboxStatus
from serving.suggestions.model import ContactHistory, Feedback, Shown

HISTORY_SPAN: Final = timedelta(days=365)
"""The engine's policy looks back at most this far."""
CHUNK: Final = 500
"""Customer ids per IN list (well under SQLite's and PostgreSQL's parameter limits)."""

_IDS: BindParameter[list[str]] = bindparam("customer_ids", expanding=True)
_SINCE: BindParameter[datetime] = bindparam("since")
SHOWN: Final = select(
    SuggestionServed.customer_id,
    SuggestionServed.suggestion_id,
    SuggestionServed.kind,
    SuggestionServed.item_id,
    SuggestionServed.channel,
    SuggestionServed.shown_at,
).where(SuggestionServed.customer_id.in_(_IDS), SuggestionServed.shown_at > _SINCE)
ANSWERED: Final = select(
    SuggestionOutcome.customer_id,
    SuggestionOutcome.suggestion_id,
    SuggestionOutcome.kind,
    SuggestionOutcome.item_id,
    SuggestionOutcome.outcome,
    SuggestionOutcome.outcome_at,
).where(SuggestionOutcome.customer_id.in_(_IDS), SuggestionOutcome.outcome_at > _SINCE)
QUEUED: Final = select(OutboxMessage.customer_id, OutboxMessage.created_at).where(
    OutboxMessage.customer_id.in_(_IDS),
    OutboxMessage.created_at > _SINCE,
    OutboxMessage.status != OutboxStatus.DEAD,
)


def read_histories(
    session: Session, customer_ids: Sequence[str], *, now: datetime
) -> dict[str, ContactHistory]:
    """Every customer's history of the last 365 days (an empty one when there is none)."""
    since = now - HISTORY_SPAN
    shown: dict[str, list[Shown]] = defaultdict(list)
    outcomes: dict[str, list[Feedback]] = defaultdict(list)
    pushes: dict[str, list[datetime]] = defaultdict(list)
    session.flush()  # what the session would do before a query of its own
    connection = session.connection()
    for start in range(0, len(customer_ids), CHUNK):
        parameters = {"customer_ids": list(customer_ids[start : start + CHUNK]), "since": since}
        for customer_id, *fields in connection.execute(SHOWN, parameters):
            shown[customer_id].append(Shown(*fields))
        for customer_id, *fields in connection.execute(ANSWERED, parameters):
            outcomes[customer_id].append(Feedback(*fields))
        for customer_id, at in connection.execute(QUEUED, parameters):
            pushes[customer_id].append(at)
    opted_out = opted_out_kinds(session, customer_ids)
    return {
        cid: ContactHistory(
            tuple(shown[cid]),
            tuple(outcomes[cid]),
            tuple(pushes[cid]),
            opted_out.get(cid, frozenset()),
        )
        for cid in customer_ids
    }
