"""Campaign planning and the transactional outbox.

Planning asks the engine, for each customer of the audience the app can reach now (not
closed, with the app and push consent, outside quiet hours), what it would push on the
app channel now (caps and the other rules applied by the engine, which pushes only what
the customer can act on and gain from) and keeps the campaign's kinds, at most
`limit_per_customer` each. Profiles and contact histories are read a chunk of customers
at a time. Running a campaign writes, in one transaction, the campaign, one outbox row
per push and the `suggestions_served` rows that make the pushes count in later answers:
either all of it is queued or nothing is.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from features.online import OnlineProfiles, Profile
from powerhall.contract import SuggestionKind
from powerhall.errors import NotFoundError
from serving.answers import customer_record
from serving.auth import mask_account, mask_phone
from serving.db.tables import Customer, SuggestionServed
from serving.push.history import read_histories
from serving.push.outbox import idempotency_key
from serving.push.schemas import CampaignCreate, CampaignPlan, PlannedPush, Recipient
from serving.push.tables import Campaign, OutboxMessage, OutboxStatus
from serving.suggestions import RULES, Channel, CustomerRecord, Suggester, Suggestion
from serving.suggestions.policy import app_gate
from serving.suggestions.ranking import NO_VALUE

logger = logging.getLogger(__name__)

CHUNK: Final = 500
"""Customers whose profiles and histories are read together."""
SAMPLE_SIZE: Final = 20
NO_CANDIDATE: Final = "no_candidate"
CLOSED: Final = "closed"
OTHER_KIND: Final = "other_kind"
OVER_LIMIT: Final = "over_limit"
EXCLUSIONS: Final = (NO_VALUE, *RULES, NO_CANDIDATE, CLOSED, OTHER_KIND, OVER_LIMIT)
"""What the plan counts: what is not worth a push (advice to stay on one's tariff), the
engine's policy rules, then the campaign's own reasons. Customers the app cannot reach
(no app, no push consent, quiet hours: `policy.app_gate`) are counted once each, without
asking the engine; the other rules count suggestions."""
PER_CUSTOMER_ASK: Final = len(SuggestionKind)
"""Suggestions asked of the engine per customer: one per kind at most."""


@dataclass(frozen=True)
class Planned:
    customer: CustomerRecord
    pushes: tuple[Suggestion, ...]


@dataclass
class Plan:
    customers: int = 0
    recipients: list[Planned] = field(default_factory=list)
    excluded: Counter[str] = field(default_factory=Counter)
    degraded: int = 0

    @property
    def messages(self) -> int:
        return sum(len(p.pushes) for p in self.recipients)

    def by_kind(self) -> dict[str, int]:
        return dict(Counter(s.kind for p in self.recipients for s in p.pushes))


def audience(session: Session, request: CampaignCreate) -> list[Customer]:
    """The directory's customers the request names, in id order; unknown ids refused."""
    query = select(Customer).order_by(Customer.customer_id)
    if request.segments:
        query = query.where(Customer.segment.in_([str(s) for s in request.segments]))
    if request.regions:
        query = query.where(Customer.region.in_(request.regions))
    if not request.customer_ids:
        return list(session.scalars(query))
    wanted = sorted(set(request.customer_ids))
    known: set[str] = set()
    found: list[Customer] = []
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        ids = select(Customer.customer_id).where(Customer.customer_id.in_(chunk))
        known.update(session.scalars(ids))
        found += session.scalars(query.where(Customer.customer_id.in_(chunk)))
    if missing := [cid for cid in wanted if cid not in known]:
        shown = ", ".join(missing[:10]) + (", …" if len(missing) > 10 else "")
        raise NotFoundError(f"{len(missing)} customers are not in the directory: {shown}")
    return found


def _profiles(
    profiles: OnlineProfiles | None, customer_ids: list[str], now: datetime
) -> list[Profile | None]:
    """Profiles of a chunk; all None (segment defaults, degraded) when the store fails."""
    if profiles is None:
        return [None] * len(customer_ids)
    try:
        return list(profiles.get_many(customer_ids, at=now))
    except Exception as exc:  # any backend's failure: Feast raises many unrelated types
        logger.warning(
            "online store unreadable, %d customers planned degraded: %s", len(customer_ids), exc
        )
        return [None] * len(customer_ids)


def plan_campaign(
    session: Session,
    request: CampaignCreate,
    *,
    suggester: Suggester,
    profiles: OnlineProfiles | None,
    now: datetime,
) -> Plan:
    """Who gets which pushes if the campaign ran at `now`, and why the others do not."""
    plan = Plan()
    plan.excluded.update(dict.fromkeys(EXCLUSIONS, 0))
    kinds = None if request.kinds is None else {str(k) for k in request.kinds}
    customers = audience(session, request)
    plan.customers = len(customers)
    open_ = [customer_record(c) for c in customers if c.closed_at is None]
    plan.excluded[CLOSED] = len(customers) - len(open_)
    reachable = []
    for customer in open_:
        gate = app_gate(customer, now=now, policy=suggester.policy, zone=suggester.zone, push=True)
        if gate is None:
            reachable.append(customer)
        else:
            plan.excluded[gate] += 1
    for start in range(0, len(reachable), CHUNK):
        chunk = reachable[start : start + CHUNK]
        ids = [c.customer_id for c in chunk]
        histories = read_histories(session, ids, now=now)
        for customer, profile in zip(chunk, _profiles(profiles, ids, now), strict=True):
            answer = suggester.suggest(
                customer,
                profile,
                histories[customer.customer_id],
                channel=Channel.APP,
                now=now,
                limit=PER_CUSTOMER_ASK,
                language=request.language,
                push=True,
            )
            plan.excluded.update(answer.excluded)
            plan.degraded += answer.degraded
            if not answer.suggestions and not any(answer.excluded.values()):
                plan.excluded[NO_CANDIDATE] += 1
            wanted = [s for s in answer.suggestions if kinds is None or s.kind in kinds]
            pushes = wanted[: request.limit_per_customer]
            plan.excluded[OTHER_KIND] += len(answer.suggestions) - len(wanted)
            plan.excluded[OVER_LIMIT] += len(wanted) - len(pushes)
            if pushes:
                plan.recipients.append(Planned(customer, tuple(pushes)))
    return plan


def describe(plan: Plan, request: CampaignCreate, campaign_id: str | None) -> CampaignPlan:
    """The plan as the API answers it: counts, and a sample with identities masked."""
    return CampaignPlan(
        campaign_id=campaign_id,
        name=request.name,
        dry_run=request.dry_run,
        customers=plan.customers,
        recipients=len(plan.recipients),
        messages=plan.messages,
        by_kind=plan.by_kind(),
        excluded=dict(plan.excluded),
        degraded=plan.degraded,
        sample=[
            Recipient(
                customer=mask_account(p.customer.customer_id) or "",
                phone=mask_phone(p.customer.phone),
                segment=p.customer.segment,
                region=p.customer.region,
                pushes=[
                    PlannedPush(
                        suggestion_id=s.suggestion_id,
                        kind=s.kind,
                        item_id=s.item_id,
                        title=s.title,
                        message=s.message,
                    )
                    for s in p.pushes
                ],
            )
            for p in plan.recipients[:SAMPLE_SIZE]
        ],
    )


def _push_payload(suggestion: Suggestion, deep_link: str, language: str) -> dict[str, Any]:
    return {
        "kind": suggestion.kind,
        "item_id": suggestion.item_id,
        "title": suggestion.title,
        "message": suggestion.message,
        "deep_link": deep_link.format(suggestion_id=suggestion.suggestion_id),
        "language": language,
    }


def queue_campaign(
    session: Session,
    plan: Plan,
    request: CampaignCreate,
    *,
    key_id: int,
    deep_link: str,
    now: datetime,
    campaign_id: str | None = None,
) -> str:
    """Write the campaign, its outbox rows and its served rows in one transaction; its id.

    Any failure rolls all of it back: a push is never queued without being recorded as
    shown (which the caps count), nor recorded without being queued.
    """
    campaign_id = campaign_id or str(uuid.uuid4())
    outbox: list[dict[str, Any]] = []
    served: list[dict[str, Any]] = []
    for planned in plan.recipients:
        customer_id = planned.customer.customer_id
        for s in planned.pushes:
            payload = _push_payload(s, deep_link, request.language)
            outbox.append(
                {
                    "campaign_id": campaign_id,
                    "customer_id": customer_id,
                    "suggestion_id": s.suggestion_id,
                    "payload": payload,
                    "idempotency_key": idempotency_key(campaign_id, customer_id, s.suggestion_id),
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
            served.append(
                {
                    "suggestion_id": s.suggestion_id,
                    "customer_id": customer_id,
                    "kind": s.kind,
                    "item_id": s.item_id,
                    "channel": Channel.APP,
                    "hall_id": None,
                    "counter_id": None,
                    "payload": {"campaign_id": campaign_id, **s.payload()},
                    "shown_at": now,
                }
            )
    try:
        session.add(
            Campaign(
                id=campaign_id,
                name=request.name,
                kinds=[str(k) for k in request.kinds] if request.kinds else [],
                audience=request.model_dump(
                    mode="json", include={"segments", "regions", "customer_ids"}
                ),
                created_by=key_id,
                created_at=now,
                stats=describe(plan, request, campaign_id).model_dump(
                    mode="json", exclude={"sample", "campaign_id", "name", "dry_run"}
                ),
            )
        )
        session.flush()
        if outbox:
            session.execute(insert(OutboxMessage), outbox)
            session.execute(insert(SuggestionServed), served)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return campaign_id
