"""Liveness and readiness, answered without a key (load balancers and orchestrators)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from features.online import OnlineProfiles
from serving.db.migrate import pending
from serving.errors import ErrorResponse, api_error

router = APIRouter(tags=["health"])

PROBE_CUSTOMER = "readyz-probe"
"""A customer id nobody has: reading it costs the online store one round trip."""


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    checks: dict[str, str] = Field(
        examples=[{"database": "ok", "migrations": "ok", "online_store": "ok"}],
        description="online_store `unavailable` (not opened at start) or `unreachable` (does "
        "not answer now) still serves: answers are degraded.",
    )
    model_failures: dict[str, str] = Field(
        default_factory=dict,
        examples=[{"complaint": "OSError: No such file or directory; keeping version 4"}],
        description="Model -> why its last load failed; the version it keeps, if any, still "
        "serves (see POST /v1/admin/models/reload).",
    )


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process answers; says nothing about its dependencies."""
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": ErrorResponse, "description": "Not ready"}},
)
def readyz(request: Request) -> Readiness:
    """Ready when the database answers at the newest migration; an unreachable online
    store or a model that failed to load does not take the service out (it answers from
    segment defaults, or with the model's last good version), but both are reported."""
    checks: dict[str, str] = {}
    try:
        checks["migrations"] = "pending" if pending(request.app.state.engine) else "ok"
        checks["database"] = "ok"
    except SQLAlchemyError:
        checks["database"] = "unreachable"
    checks["online_store"] = _online_store(request.app.state.profiles)
    if checks["database"] != "ok" or checks.get("migrations") != "ok":
        raise api_error(503, "not_ready", "the service is not ready", [checks])
    return Readiness(checks=checks, model_failures=request.app.state.suggester.reload_failures)


def _online_store(profiles: OnlineProfiles | None) -> str:
    """Whether a profile read gets through now, the way the answers read them."""
    if profiles is None:
        return "unavailable"
    try:
        profiles.get(PROBE_CUSTOMER)
    except Exception:  # any store's failure: the answers degrade on the same
        return "unreachable"
    return "ok"
