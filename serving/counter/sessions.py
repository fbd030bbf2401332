"""Counter sessions: a customer identified at a counter, as stored and as read back."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from serving.db.tables import CounterSession, Customer
from serving.directory import find_by_account, get_customer

CUSTOMER_ID: Final = "customer_id"
ACCOUNT_NO: Final = "account_no"


def find_customer(session: Session, *, identified_by: str, identifier: str) -> Customer | None:
    """The directory's customer by `customer_id` or by `account_no`."""
    if identified_by == ACCOUNT_NO:
        return find_by_account(session, identifier)
    return get_customer(session, identifier)


def open_session(
    session: Session,
    *,
    hall_id: str,
    counter_id: str,
    customer: Customer,
    identified_by: str,
    staff_id: str | None,
    key_id: int,
    now: datetime,
) -> CounterSession:
    """Add the session (flushed, so it has its id and lets the hall's keys see the
    customer within this transaction); the caller commits it with the answer."""
    row = CounterSession(
        hall_id=hall_id,
        counter_id=counter_id,
        customer_id=customer.customer_id,
        identified_by=identified_by,
        staff_id=staff_id,
        key_id=key_id,
        started_at=now,
    )
    session.add(row)
    session.flush()
    return row


def get_session(
    session: Session, *, session_id: int, hall_id: str, counter_id: str
) -> CounterSession | None:
    """A session of this counter, or None (another counter's sessions stay hidden)."""
    row = session.get(CounterSession, session_id)
    if row is None or row.hall_id != hall_id or row.counter_id != counter_id:
        return None
    return row
