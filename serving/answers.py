"""One customer's answer, served: profile read, contact history, the engine, then what
was shown and the audit row (committed before the answer is returned), and the metrics.

The suggestions route, the inbox and the counter sessions all serve answers this way, so
the contact policy sees every suggestion shown on any channel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from features.online import OnlineProfiles, Profile
from serving.audit import audit_row
from serving.auth import Caller, mask_account, mask_phone
from serving.db.tables import Customer
from serving.metrics import ServiceMetrics
from serving.push.history import read_history
from serving.recorder import AnswerRecorder
from serving.schemas import CustomerPublic
from serving.suggestions.engine import Suggester
from serving.suggestions.model import Answer, Channel, CustomerRecord

logger = logging.getLogger(__name__)


def customer_record(row: Customer) -> CustomerRecord:
    return CustomerRecord(
        customer_id=row.customer_id,
        account_no=row.account_no,
        segment=row.segment,
        region=row.region,
        hall_id=row.hall_id,
        tariff_id=row.tariff_id,
        contract_capacity_kva=row.contract_capacity_kva,
        has_app=row.has_app,
        push_consent=row.push_consent,
        phone=row.phone,
        created_at=row.created_at,
        closed_at=row.closed_at,
    )


def customer_public(row: Customer) -> CustomerPublic:
    return CustomerPublic(
        customer_id=row.customer_id,
        account_no=mask_account(row.account_no),
        phone=mask_phone(row.phone),
        segment=row.segment,
        region=row.region,
        hall_id=row.hall_id,
    )


def read_profile(
    profiles: OnlineProfiles | None, customer_id: str, now: datetime
) -> Profile | None:
    """The online profile, or None when the store does not answer (a degraded answer,
    never a failed request)."""
    if profiles is None:
        return None
    try:
        return profiles.get(customer_id, at=now)
    except Exception as exc:  # Redis, SQLite or Feast: any failure of the store degrades
        logger.warning("online store read failed for a profile: %s", exc)
        return None


@dataclass(frozen=True)
class Answering:
    """What serving an answer needs of the app, besides the request's own session."""

    suggester: Suggester
    profiles: OnlineProfiles | None
    """None: the online store could not be opened (answers are degraded)."""
    recorder: AnswerRecorder
    metrics: ServiceMetrics


def serve_answer(
    session: Session,
    answering: Answering,
    *,
    customer: Customer,
    caller: Caller,
    channel: Channel,
    now: datetime,
    limit: int,
    language: str,
    path: str,
    action: str,
    hall_id: str | None = None,
    counter_id: str | None = None,
) -> Answer:
    """The engine's answer for `customer`, recorded as shown and audited.

    The session is committed first (with what the caller added, e.g. a counter session),
    which also hands its connection back; the answer's rows then commit in the recorder's
    next batch, and the answer is returned once they have.
    """
    profile = read_profile(answering.profiles, customer.customer_id, now)
    history = read_history(session, customer, now=now)
    answer = answering.suggester.suggest(
        customer_record(customer),
        profile,
        history,
        channel=channel,
        now=now,
        limit=limit,
        language=language,
    )
    session.commit()
    answering.recorder.record(
        [
            {
                "suggestion_id": suggestion.suggestion_id,
                "customer_id": customer.customer_id,
                "kind": suggestion.kind,
                "item_id": suggestion.item_id,
                "channel": str(channel),
                "hall_id": hall_id,
                "counter_id": counter_id,
                "payload": suggestion.payload(),
                "shown_at": now,
            }
            for suggestion in answer.suggestions
        ],
        audit_row(
            caller=caller,
            customer_id=customer.customer_id,
            action=action,
            reason=f"{action} channel={channel}",
            path=path,
            now=now,
        ),
    )
    metrics = answering.metrics
    for suggestion in answer.suggestions:
        metrics.suggestions_served.labels(kind=suggestion.kind, channel=str(channel)).inc()
    if answer.degraded:
        metrics.degraded_answers.labels(channel=str(channel)).inc()
    return answer
