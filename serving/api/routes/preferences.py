"""A customer's preferences: read them, or replace them (opt out of peer comparisons).

The app sets them for its user, an admin on a customer's behalf; a change is audited and
applies from the next answer on, on every channel and in every campaign.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy.orm import Session

from serving.api.deps import NowDep, SessionDep, require_roles
from serving.audit import record_view
from serving.auth import Caller, Role
from serving.db.tables import Customer
from serving.directory import get_customer
from serving.errors import ERROR_RESPONSES, api_error
from serving.schemas import CustomerPreferences

router = APIRouter(prefix="/v1/customers", tags=["customers"], responses=ERROR_RESPONSES)

CustomerId = Annotated[str, Path(min_length=1, max_length=64, examples=["C000123"])]
AppOrAdminDep = Annotated[Caller, Depends(require_roles(Role.APP, Role.ADMIN))]


def _customer(session: Session, customer_id: str) -> Customer:
    customer = get_customer(session, customer_id)
    if customer is None:
        raise api_error(404, "customer_not_found", f"no customer {customer_id}")
    return customer


def _public(customer: Customer) -> CustomerPreferences:
    return CustomerPreferences(peer_comparison=customer.peer_comparison)


@router.get("/{customer_id}/preferences", response_model=CustomerPreferences)
def read_preferences(
    customer_id: CustomerId, session: SessionDep, caller: AppOrAdminDep
) -> CustomerPreferences:
    """The customer's preferences (app and admin keys)."""
    return _public(_customer(session, customer_id))


@router.put("/{customer_id}/preferences", response_model=CustomerPreferences)
def replace_preferences(
    request: Request,
    customer_id: CustomerId,
    preferences: CustomerPreferences,
    session: SessionDep,
    caller: AppOrAdminDep,
    now: NowDep,
) -> CustomerPreferences:
    """Replace the customer's preferences (app and admin keys); idempotent. With
    `peer_comparison: false` the app no longer compares the customer with similar homes."""
    customer = _customer(session, customer_id)
    customer.peer_comparison = preferences.peer_comparison
    record_view(
        session,
        caller=caller,
        customer_id=customer_id,
        action="preferences",
        reason=f"peer_comparison={str(preferences.peer_comparison).lower()}",
        path=request.url.path,
        now=now,
    )
    session.commit()
    return _public(customer)
