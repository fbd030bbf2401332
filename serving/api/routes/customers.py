"""A customer's suggestions (counter or app) and the app's inbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy import select

from serving.access import view_refusal
from serving.answers import customer_public, serve_answer
from serving.api.deps import (
    AnsweringDep,
    ApiKeyDep,
    LanguageDep,
    NowDep,
    SessionDep,
    SettingsDep,
    require_roles,
)
from serving.auth import Caller, Role
from serving.db.tables import Customer, SuggestionOutcome, SuggestionServed
from serving.directory import get_customer
from serving.errors import ERROR_RESPONSES, api_error
from serving.schemas import (
    Inbox,
    InboxItem,
    ReasonPublic,
    RiskPublic,
    SuggestionPublic,
    SuggestionsAnswer,
)
from serving.suggestions.model import Answer, Channel

router = APIRouter(prefix="/v1/customers", tags=["customers"], responses=ERROR_RESPONSES)

CustomerId = Annotated[str, Path(min_length=1, max_length=64, examples=["C000123"])]
INBOX_SIZE = 20


def visible_customer(
    session: SessionDep,
    caller: Caller,
    customer_id: str,
    channel: Channel | None,
    settings: SettingsDep,
    now: NowDep,
) -> Customer:
    """The directory's customer, if this key may see them on `channel` (None: on any, as
    the tariff routes ask), else 403 or 404. Every route that shows a customer asks here."""
    refusal = view_refusal(
        session,
        caller=caller,
        customer_id=customer_id,
        channel=channel,
        now=now,
        window_minutes=settings.counter_session_minutes,
    )
    if refusal is not None:
        raise api_error(403, *refusal)
    customer = get_customer(session, customer_id)
    if customer is None:
        raise api_error(404, "customer_not_found", f"no customer {customer_id}")
    return customer


def suggestion_public(suggestion: object) -> SuggestionPublic:
    return SuggestionPublic.model_validate(suggestion, from_attributes=True)


def answer_public(customer: Customer, answer: Answer) -> SuggestionsAnswer:
    return SuggestionsAnswer(
        customer=customer_public(customer),
        channel=answer.channel,
        suggestions=[suggestion_public(s) for s in answer.suggestions],
        risks=[
            RiskPublic(
                name=r.name,
                probability=r.probability,
                level=r.level,
                reasons=[ReasonPublic(code=x.code, text=x.text) for x in r.reasons],
            )
            for r in answer.risks
        ],
        model_versions=answer.model_versions,
        degraded=answer.degraded,
        cold_start=answer.cold_start,
        excluded=answer.excluded,
        profile_summary=answer.profile_summary,
    )


@router.get("/{customer_id}/suggestions", response_model=SuggestionsAnswer)
def suggestions(
    request: Request,
    customer_id: CustomerId,
    session: SessionDep,
    caller: ApiKeyDep,
    settings: SettingsDep,
    answering: AnsweringDep,
    language: LanguageDep,
    now: NowDep,
    channel: Annotated[Channel, Query(description="counter or app.")] = Channel.COUNTER,
    limit: Annotated[int, Query(ge=1, le=10)] = 3,
) -> SuggestionsAnswer:
    """Ranked suggestions after the contact policy; they count as shown (and audited).

    A counter key needs the customer identified at a counter of its hall in the last
    30 minutes; an app key uses channel=app only.
    """
    customer = visible_customer(session, caller, customer_id, channel, settings, now)
    answer = serve_answer(
        session,
        answering,
        customer=customer,
        caller=caller,
        channel=channel,
        now=now,
        limit=limit,
        language=language,
        path=request.url.path,
        action="suggestions",
        hall_id=caller.hall_id if caller.role == Role.COUNTER else None,
    )
    return answer_public(customer, answer)


AppOrAdminDep = Annotated[Caller, Depends(require_roles(Role.APP, Role.ADMIN))]
ANSWERED = ("accepted", "declined", "dismissed")


@router.get("/{customer_id}/inbox", response_model=Inbox)
def inbox(
    request: Request,
    customer_id: CustomerId,
    session: SessionDep,
    caller: AppOrAdminDep,
    settings: SettingsDep,
    answering: AnsweringDep,
    language: LanguageDep,
    now: NowDep,
) -> Inbox:
    """The app's inbox: fresh suggestions from the engine, then earlier app suggestions
    the customer has not answered (accepted, declined or dismissed), newest first."""
    customer = visible_customer(session, caller, customer_id, Channel.APP, settings, now)
    answer = serve_answer(
        session,
        answering,
        customer=customer,
        caller=caller,
        channel=Channel.APP,
        now=now,
        limit=3,
        language=language,
        path=request.url.path,
        action="inbox",
    )
    answered = select(SuggestionOutcome.suggestion_id).where(
        SuggestionOutcome.customer_id == customer_id, SuggestionOutcome.outcome.in_(ANSWERED)
    )
    shown = session.scalars(
        select(SuggestionServed)
        .where(
            SuggestionServed.customer_id == customer_id,
            SuggestionServed.channel == str(Channel.APP),
            SuggestionServed.suggestion_id.not_in(answered),
        )
        .order_by(SuggestionServed.shown_at.desc(), SuggestionServed.id.desc())
    )
    items: dict[str, InboxItem] = {}
    for row in shown:
        if row.suggestion_id not in items:
            items[row.suggestion_id] = InboxItem.model_validate(
                row.payload | {"shown_at": row.shown_at}
            )
        if len(items) == INBOX_SIZE:
            break
    return Inbox(
        customer=customer_public(customer), items=list(items.values()), degraded=answer.degraded
    )
