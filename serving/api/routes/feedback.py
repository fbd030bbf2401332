"""Feedback on a shown suggestion: accepted, declined, dismissed, clicked (idempotent)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path

from serving.access import view_refusal
from serving.api.deps import ApiKeyDep, NowDep, SessionDep, SettingsDep
from serving.errors import ERROR_RESPONSES, api_error
from serving.feedback import IdempotencyConflictError, last_shown, record_outcome
from serving.schemas import SUGGESTION_ID_EXAMPLE, FeedbackCreate, FeedbackRecorded

router = APIRouter(prefix="/v1/suggestions", tags=["feedback"], responses=ERROR_RESPONSES)


@router.post("/{suggestion_id}/feedback", response_model=FeedbackRecorded)
def feedback(
    suggestion_id: Annotated[
        str, Path(min_length=1, max_length=36, examples=[SUGGESTION_ID_EXAMPLE])
    ],
    body: FeedbackCreate,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=128,
            description="Retrying with the same key and body returns the same answer; "
            "the same key with another body is a 409.",
        ),
    ],
    session: SessionDep,
    caller: ApiKeyDep,
    settings: SettingsDep,
    now: NowDep,
) -> FeedbackRecorded:
    """Record what the customer did with a suggestion that was shown to them."""
    served = last_shown(session, suggestion_id)
    if served is None:
        raise api_error(404, "suggestion_not_found", f"suggestion {suggestion_id} was never shown")
    if body.customer_id is not None and body.customer_id != served.customer_id:
        raise api_error(
            422, "customer_mismatch", "customer_id is not the customer the suggestion was for"
        )
    refusal = view_refusal(
        session,
        caller=caller,
        customer_id=served.customer_id,
        channel=None,
        now=now,
        window_minutes=settings.counter_session_minutes,
    )
    if refusal is not None:
        raise api_error(403, *refusal)
    try:
        recorded = record_outcome(
            session,
            served=served,
            body=body,
            caller=caller,
            idempotency_key=idempotency_key,
            now=now,
        )
    except IdempotencyConflictError as exc:
        raise api_error(
            409,
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
        ) from exc
    row = recorded.row
    return FeedbackRecorded(
        feedback_id=row.id,
        suggestion_id=row.suggestion_id,
        customer_id=row.customer_id,
        kind=row.kind,
        item_id=row.item_id,
        channel=row.channel,
        outcome=row.outcome,  # type: ignore[arg-type]
        outcome_at=row.outcome_at,
    )
