"""Which key may see which customer on which channel (the roles of `serving.auth`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from serving.auth import Caller, Role, identified_in_hall
from serving.suggestions.model import Channel

Refusal = tuple[str, str]
"""(error code, message) of a 403."""


def view_refusal(
    session: Session,
    *,
    caller: Caller,
    customer_id: str,
    channel: Channel | None,
    now: datetime,
    window_minutes: int,
) -> Refusal | None:
    """None when `caller` may see the customer on `channel` (None: feedback, any channel).

    A counter key sees a customer only on the counter channel and only while a counter
    of its hall identified them within the window; an app key only on the app channel.
    """
    if caller.role == Role.ADMIN:
        return None
    if caller.role == Role.APP:
        if channel not in (None, Channel.APP):
            return "channel_not_allowed", "an app key can only use channel=app"
        return None
    if channel not in (None, Channel.COUNTER):
        return "channel_not_allowed", "a counter key can only use channel=counter"
    since = now - timedelta(minutes=window_minutes)
    if caller.hall_id is None or not identified_in_hall(
        session, hall_id=caller.hall_id, customer_id=customer_id, since=since
    ):
        return (
            "not_identified_here",
            f"the customer was not identified at a counter of this hall in the last "
            f"{window_minutes} minutes",
        )
    return None
