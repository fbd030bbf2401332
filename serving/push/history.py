"""Contact histories of many customers at once, for planning a campaign, or of one, for
every answer served.

One statement per chunk of customers reads what was shown, what they answered and which
pushes were queued (three selects in a UNION ALL: one round trip instead of three, which
on the answer path is most of what a history costs); the kinds they opted out of are one
more query for many customers, and come with the directory row for one. A push counts
from the moment it is queued in the outbox until it is delivered; a dead one never
reached the customer and does not count against the caps.

The statement is built once, with the customer ids and the start of the span as
parameters, and run on the session's connection: built per call and run through the
session, it would cost an answer more in SQLAlchemy's own work (building, cache keys,
ORM execution) than in the database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import BindParameter, String, bindparam, cast, literal, null, select, union_all
from sqlalchemy.orm import Session

from serving.db.tables import Customer, SuggestionOutcome, SuggestionServed
from serving.preferences import opted_out_kinds, opted_out_of
from serving.push.tables import OutboxMessage, OutboxStatus
from serving.suggestions.model import ContactHistory, Feedback, Shown

HISTORY_SPAN: Final = timedelta(days=365)
"""The engine's policy looks back at most this far."""
CHUNK: Final = 500
"""Customer ids per IN list (well under SQLite's and PostgreSQL's parameter limits)."""
SHOWN: Final = "shown"
ANSWERED: Final = "answered"
QUEUED: Final = "queued"

_IDS: BindParameter[list[str]] = bindparam("customer_ids", expanding=True)
_SINCE: BindParameter[datetime] = bindparam("since")
_NO_TEXT = cast(null(), String)
HISTORY: Final = union_all(
    select(
        literal(SHOWN),
        SuggestionServed.customer_id,
        SuggestionServed.suggestion_id,
        SuggestionServed.kind,
        SuggestionServed.item_id,
        SuggestionServed.channel,
        SuggestionServed.shown_at,
    ).where(SuggestionServed.customer_id.in_(_IDS), SuggestionServed.shown_at > _SINCE),
    select(
        literal(ANSWERED),
        SuggestionOutcome.customer_id,
        SuggestionOutcome.suggestion_id,
        SuggestionOutcome.kind,
        SuggestionOutcome.item_id,
        SuggestionOutcome.outcome,
        SuggestionOutcome.outcome_at,
    ).where(SuggestionOutcome.customer_id.in_(_IDS), SuggestionOutcome.outcome_at > _SINCE),
    select(
        literal(QUEUED),
        OutboxMessage.customer_id,
        _NO_TEXT,
        _NO_TEXT,
        _NO_TEXT,
        _NO_TEXT,
        OutboxMessage.created_at,
    ).where(
        OutboxMessage.customer_id.in_(_IDS),
        OutboxMessage.created_at > _SINCE,
        OutboxMessage.status != OutboxStatus.DEAD,
    ),
)
"""(source, customer, suggestion, kind, item, channel or outcome, when) of each row."""


def read_histories(
    session: Session, customer_ids: Sequence[str], *, now: datetime
) -> dict[str, ContactHistory]:
    """Every customer's history of the last 365 days (an empty one when there is none)."""
    return _histories(session, customer_ids, now, opted_out_kinds(session, customer_ids))


def read_history(session: Session, customer: Customer, *, now: datetime) -> ContactHistory:
    """One customer's history, for an answer: the opt-outs come with the directory row the
    answer already holds, so one statement reads it all."""
    cid = customer.customer_id
    return _histories(session, [cid], now, {cid: opted_out_of(customer)})[cid]


def _histories(
    session: Session,
    customer_ids: Sequence[str],
    now: datetime,
    opted_out: dict[str, frozenset[str]],
) -> dict[str, ContactHistory]:
    since = now - HISTORY_SPAN
    shown: dict[str, list[Shown]] = defaultdict(list)
    outcomes: dict[str, list[Feedback]] = defaultdict(list)
    pushes: dict[str, list[datetime]] = defaultdict(list)
    session.flush()  # what the session would do before a query of its own
    connection = session.connection()
    for start in range(0, len(customer_ids), CHUNK):
        parameters = {"customer_ids": list(customer_ids[start : start + CHUNK]), "since": since}
        for source, customer_id, *fields, at in connection.execute(HISTORY, parameters):
            if source == SHOWN:
                shown[customer_id].append(Shown(*fields, at))
            elif source == ANSWERED:
                outcomes[customer_id].append(Feedback(*fields, at))
            else:
                pushes[customer_id].append(at)
    return {
        cid: ContactHistory(
            tuple(shown[cid]),
            tuple(outcomes[cid]),
            tuple(pushes[cid]),
            opted_out.get(cid, frozenset()),
        )
        for cid in customer_ids
    }
