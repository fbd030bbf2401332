"""Reports for supervisors: acceptance of suggestions (staff KPIs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from serving.api.deps import AdminDep, SessionDep
from serving.errors import ERROR_RESPONSES, api_error
from serving.reports import GroupBy, acceptance
from serving.schemas import AcceptanceReport, AcceptanceRow

router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=ERROR_RESPONSES)


@router.get("/acceptance", response_model=AcceptanceReport)
def acceptance_report(
    session: SessionDep,
    _: AdminDep,
    group_by: Annotated[GroupBy, Query(description="hall, counter, staff or kind.")] = "kind",
    since: Annotated[
        datetime | None, Query(description="Only what happened since (with a zone).")
    ] = None,
) -> AcceptanceReport:
    """Shown, accepted, declined and the acceptance rate per group."""
    if since is not None and since.tzinfo is None:
        raise api_error(422, "naive_timestamp", "since needs a time zone, e.g. +08:00 or Z")
    rows = [
        AcceptanceRow(
            group=group,
            shown=shown,
            accepted=accepted,
            declined=declined,
            acceptance_rate=accepted / shown if shown else None,
        )
        for group, shown, accepted, declined in acceptance(session, group_by=group_by, since=since)
    ]
    return AcceptanceReport(group_by=group_by, since=since, rows=rows)
