"""Counters: the hall reports who is at a counter; that counter's screens hear it at once.

`POST …/sessions` stores the session, builds the counter answer the same way
`/v1/customers/{id}/suggestions` does, and publishes it to the counter's broker;
`GET …/stream` is a screen's server-sent event stream. The page itself is in
`serving.counter.page`, included here so that the API has one counters router.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final

import anyio.from_thread
from fastapi import APIRouter, Depends, FastAPI, Path, Request, status
from sqlalchemy.orm import Session
from sse_starlette import EventSourceResponse

from serving.access import view_refusal
from serving.answers import Answering, serve_answer
from serving.api.deps import (
    AnsweringDep,
    ApiKeyDep,
    LanguageDep,
    NowDep,
    SessionDep,
    SettingsDep,
)
from serving.api.routes.customers import answer_public
from serving.auth import Caller
from serving.counter import page
from serving.counter.access import CounterId, HallId, may_use_counter
from serving.counter.broker import CounterBroker, open_broker
from serving.counter.schemas import CounterAnswer, SessionCreate, SessionPublic
from serving.counter.sessions import find_customer, get_session, open_session
from serving.db.tables import CounterSession, Customer
from serving.errors import ERROR_RESPONSES, api_error
from serving.suggestions.model import Channel

ANSWER_LIMIT: Final = 3
"""Suggestions on a counter screen: what staff can raise in one conversation."""
PING_SECONDS: Final = 15
"""Keep-alive comments: proxies close connections idle for longer (often 30-60 s)."""
SEND_TIMEOUT_SECONDS: Final = 30
"""A screen that takes longer to accept one event is gone; its stream is closed."""


@asynccontextmanager
async def counter_fanout(app: FastAPI) -> AsyncIterator[None]:
    """Open the broker `Settings.counter_fanout` names for the app's lifetime."""
    broker = open_broker(app.state.settings)
    app.state.counter_broker = broker
    try:
        yield
    finally:
        await broker.close()


router = APIRouter(tags=["counters"], lifespan=counter_fanout, responses=ERROR_RESPONSES)
router.include_router(page.router)


def _broker(request: Request) -> CounterBroker:
    return request.app.state.counter_broker


BrokerDep = Annotated[CounterBroker, Depends(_broker)]


def _counter_caller(caller: ApiKeyDep, hall: HallId) -> Caller:
    if not may_use_counter(caller, hall):
        raise api_error(
            403,
            "wrong_hall",
            f"this key may not use the counters of hall {hall}: a counter key of that "
            "hall or an admin key is needed",
        )
    return caller


CounterCallerDep = Annotated[Caller, Depends(_counter_caller)]


@dataclass(frozen=True)
class _Serving:
    """What serving a counter answer needs besides the session and the customer."""

    path: str
    caller: Caller
    answering: Answering
    language: str
    now: datetime


async def _serving(
    request: Request,
    caller: ApiKeyDep,
    answering: AnsweringDep,
    language: LanguageDep,
    now: NowDep,
) -> _Serving:
    return _Serving(request.url.path, caller, answering, language, now)


ServingDep = Annotated[_Serving, Depends(_serving)]


def _counter_answer(
    session: Session, serving: _Serving, row: CounterSession, customer: Customer, action: str
) -> CounterAnswer:
    """The counter answer for the session's customer, served the way every answer is
    (the session committed, then the answer recorded as shown and audited)."""
    answer = serve_answer(
        session,
        serving.answering,
        customer=customer,
        caller=serving.caller,
        channel=Channel.COUNTER,
        now=serving.now,
        limit=ANSWER_LIMIT,
        language=serving.language,
        path=serving.path,
        action=action,
        hall_id=row.hall_id,
        counter_id=row.counter_id,
    )
    return CounterAnswer(
        session=SessionPublic.of(row),
        language=serving.language,
        answer=answer_public(customer, answer),
    )


@router.post(
    "/v1/halls/{hall}/counters/{counter}/sessions",
    status_code=status.HTTP_201_CREATED,
    response_model=CounterAnswer,
    summary="Report the customer identified at a counter",
)
def create_session(
    hall: HallId,
    counter: CounterId,
    body: SessionCreate,
    caller: CounterCallerDep,
    session: SessionDep,
    serving: ServingDep,
    broker: BrokerDep,
) -> CounterAnswer:
    """The hall's queue or ID reader reports who is at the counter (customer id or
    account number). The session opens the customer to this hall's counter keys for
    `counter_session_minutes`; the counter answer is returned and sent to the counter's
    screens at once."""
    customer = find_customer(session, identified_by=body.identified_by, identifier=body.identifier)
    if customer is None:
        raise api_error(
            404,
            "customer_not_found",
            f"no customer with {body.identified_by} {body.identifier} in the directory",
        )
    row = open_session(
        session,
        hall_id=hall,
        counter_id=counter,
        customer=customer,
        identified_by=body.identified_by,
        staff_id=body.staff_id,
        key_id=caller.key_id,
        now=serving.now,
    )
    answer = _counter_answer(session, serving, row, customer, "counter_session")
    anyio.from_thread.run(broker.publish, hall, counter, answer.model_dump(mode="json"))
    return answer


@router.get(
    "/v1/halls/{hall}/counters/{counter}/sessions/{session_id}",
    response_model=CounterAnswer,
    summary="A session's counter answer again, e.g. in another language",
)
def read_session(
    hall: HallId,
    counter: CounterId,
    session_id: Annotated[int, Path(ge=1, examples=[42])],
    _caller: CounterCallerDep,
    session: SessionDep,
    settings: SettingsDep,
    serving: ServingDep,
) -> CounterAnswer:
    """What the screen shows for a session, in the `Accept-Language` asked for (the
    screen's language toggle). A counter key reads it while the session is recent."""
    row = get_session(session, session_id=session_id, hall_id=hall, counter_id=counter)
    if row is None:
        raise api_error(
            404, "session_not_found", f"no session {session_id} at counter {hall}/{counter}"
        )
    refusal = view_refusal(
        session,
        caller=serving.caller,
        customer_id=row.customer_id,
        channel=Channel.COUNTER,
        now=serving.now,
        window_minutes=settings.counter_session_minutes,
    )
    if refusal is not None:
        raise api_error(403, *refusal)
    customer = session.get(Customer, row.customer_id)
    assert customer is not None  # a foreign key
    return _counter_answer(session, serving, row, customer, "counter_session_view")


def _sse(event: str, payload: dict[str, Any], event_id: str | None = None) -> dict[str, str]:
    message = {"event": event, "data": json.dumps(payload, ensure_ascii=False)}
    if event_id is not None:
        message["id"] = event_id
    return message


@router.get(
    "/v1/halls/{hall}/counters/{counter}/stream",
    response_class=EventSourceResponse,
    summary="A counter screen's live events (server-sent events)",
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "`ready` once subscribed, then a `session` event (the same JSON "
            "as the answer of POST …/sessions) each time a customer is identified at "
            "this counter; comment pings keep the connection alive.",
        }
    },
)
async def stream(
    hall: HallId,
    counter: CounterId,
    _caller: CounterCallerDep,
    session: SessionDep,
    broker: BrokerDep,
) -> EventSourceResponse:
    # The stream may stay open all day: give the key check's connection back now.
    session.close()

    async def events() -> AsyncIterator[dict[str, str]]:
        async with broker.subscribe(hall, counter) as payloads:
            yield _sse("ready", {"hall_id": hall, "counter_id": counter})
            async for payload in payloads:
                yield _sse("session", payload, str(payload["session"]["id"]))

    return EventSourceResponse(
        events(),
        ping=PING_SECONDS,
        send_timeout=SEND_TIMEOUT_SECONDS,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
