"""Pushes queued straight into a migrated database, for the dispatcher's tests (which are
about delivery, not planning)."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from serving.auth import Role, create_key
from serving.db.tables import Customer
from serving.push.outbox import idempotency_key
from serving.push.tables import Campaign, OutboxMessage, OutboxStatus
from tests.serving.suggestions.factories import NOW
from tests.serving.suggestions.factories import customer as record


def customer(customer_id: str) -> Customer:
    """The engine tests' customer, as a directory row."""
    return Customer(**asdict(record(customer_id=customer_id, account_no=f"A{customer_id}")))


def queue_pushes(session: Session, count: int, *, now: datetime = NOW) -> list[str]:
    """A campaign of `count` pushes (one customer each), due at `now`; their keys."""
    key, _ = create_key(
        session, role=Role.ADMIN, name=f"admin-{uuid.uuid4().hex[:6]}", hall_id=None, now=now
    )
    known = set(session.scalars(select(Customer.customer_id)))
    campaign = Campaign(
        id=str(uuid.uuid4()),
        name="test",
        kinds=["tip"],
        audience={},
        created_by=key.id,
        created_at=now,
        stats={},
    )
    session.add(campaign)
    keys = []
    for i in range(count):
        customer_id = f"C{i:06d}"
        if customer_id not in known:
            session.add(customer(customer_id))
        suggestion_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{customer_id}/tip/tip-ac-26c"))
        keys.append(idempotency_key(campaign.id, customer_id, suggestion_id))
        session.add(
            OutboxMessage(
                campaign_id=campaign.id,
                customer_id=customer_id,
                suggestion_id=suggestion_id,
                payload={
                    "kind": "tip",
                    "item_id": "tip-ac-26c",
                    "title": "空调调到26度",
                    "message": "每年约省90元",
                    "deep_link": f"powerhall://inbox/{suggestion_id}",
                    "language": "zh-CN",
                },
                idempotency_key=keys[-1],
                status=OutboxStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    session.commit()
    return keys
