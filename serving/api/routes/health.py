"""Liveness and readiness, answered without a key (load balancers and orchestrators)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from serving.db.migrate import pending
from serving.errors import ErrorResponse, api_error

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    checks: dict[str, str] = Field(
        examples=[{"database": "ok", "migrations": "ok", "online_store": "ok"}],
        description="online_store `unavailable` still serves (degraded answers).",
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
    store does not take the service out (it answers from segment defaults)."""
    checks: dict[str, str] = {}
    try:
        checks["migrations"] = "pending" if pending(request.app.state.engine) else "ok"
        checks["database"] = "ok"
    except SQLAlchemyError:
        checks["database"] = "unreachable"
    checks["online_store"] = "ok" if request.app.state.profiles is not None else "unavailable"
    if checks["database"] != "ok" or checks.get("migrations") != "ok":
        raise api_error(503, "not_ready", "the service is not ready", [checks])
    return Readiness(checks=checks)
