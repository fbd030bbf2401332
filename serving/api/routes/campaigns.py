"""`POST /v1/campaigns`: plan an app push campaign, and run it through the outbox.

The router's lifespan hands the outbox depth to `/metrics`, read from the database at
scrape time: the dispatcher usually runs in another process.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, status
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from powerhall.errors import NotFoundError
from serving.api.deps import (
    AdminDep,
    MetricsDep,
    NowDep,
    ProfilesDep,
    SessionDep,
    SettingsDep,
    SuggesterDep,
)
from serving.errors import ERROR_RESPONSES, api_error
from serving.metrics import ServiceMetrics
from serving.push.campaigns import describe, plan_campaign, queue_campaign
from serving.push.outbox import depth
from serving.push.schemas import CampaignCreate, CampaignPlan

logger = logging.getLogger(__name__)


def outbox_depth(sessions: sessionmaker[Session]) -> Callable[[], float]:
    """The gauge's reading; NaN when the database does not answer (the scrape succeeds)."""

    def read() -> float:
        try:
            with sessions() as session:
                return float(depth(session))
        except SQLAlchemyError as exc:
            logger.warning("outbox depth unavailable: %s", exc)
            return math.nan

    return read


@asynccontextmanager
async def watch_outbox(app: FastAPI) -> AsyncIterator[None]:
    metrics: ServiceMetrics = app.state.metrics
    metrics.watch_outbox(outbox_depth(app.state.sessions))
    yield


router = APIRouter(
    prefix="/v1/campaigns", tags=["campaigns"], lifespan=watch_outbox, responses=ERROR_RESPONSES
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CampaignPlan)
def create_campaign(
    body: CampaignCreate,
    caller: AdminDep,
    session: SessionDep,
    settings: SettingsDep,
    profiles: ProfilesDep,
    suggester: SuggesterDep,
    metrics: MetricsDep,
    now: NowDep,
) -> CampaignPlan:
    """Plan who gets which app push now, under the contact policy, and how many each rule
    excluded. `dry_run: true` writes nothing; `false` queues the pushes for the
    dispatcher in one transaction with the campaign and the served records."""
    try:
        plan = plan_campaign(session, body, suggester=suggester, profiles=profiles, now=now)
    except NotFoundError as exc:
        raise api_error(422, "unknown_customers", str(exc)) from exc
    if body.dry_run:
        return describe(plan, body, None)
    campaign_id = queue_campaign(
        session, plan, body, key_id=caller.key_id, deep_link=settings.push_deep_link, now=now
    )
    for kind, count in plan.by_kind().items():
        metrics.suggestions_served.labels(kind=kind, channel="app").inc(count)
    return describe(plan, body, campaign_id)
