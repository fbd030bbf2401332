"""Real-time events (complaint filed, outage, app login) into the online profiles."""

from __future__ import annotations

from fastapi import APIRouter

from features.online import LIVE_FIELDS
from powerhall.contract import EventKind
from serving.api.deps import ApiKeyDep, NowDep, ProfilesDep, SessionDep
from serving.auth import Role
from serving.directory import get_customer
from serving.errors import ERROR_RESPONSES, api_error
from serving.events import receive_event
from serving.schemas import EventCreate, EventRecorded

router = APIRouter(prefix="/v1/events", tags=["events"], responses=ERROR_RESPONSES)


@router.post("", response_model=EventRecorded)
def post_event(
    event: EventCreate,
    session: SessionDep,
    caller: ApiKeyDep,
    profiles: ProfilesDep,
    now: NowDep,
) -> EventRecorded:
    """Store an event once per `event_id` and push it to the online store: the next
    answer for the customer sees it (e.g. an outage puts service recovery first).

    Admin keys send any pushed kind; app keys send app_login only.
    """
    if event.kind not in LIVE_FIELDS:
        raise api_error(
            422,
            "event_kind_not_pushed",
            f"event kind {event.kind} is not taken in real time; use one of "
            f"{', '.join(LIVE_FIELDS)}",
        )
    if caller.role == Role.COUNTER or (
        caller.role == Role.APP and event.kind != EventKind.APP_LOGIN
    ):
        raise api_error(403, "role_not_allowed", f"a {caller.role} key cannot send {event.kind}")
    if event.ts.tzinfo is None:
        raise api_error(422, "naive_timestamp", "ts needs a time zone, e.g. +08:00 or Z")
    if get_customer(session, event.customer_id) is None:
        raise api_error(404, "customer_not_found", f"no customer {event.customer_id}")
    received = receive_event(session, event=event, profiles=profiles, now=now)
    return EventRecorded(event_id=event.event_id, stored=received.stored, pushed=received.pushed)
