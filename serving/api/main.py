"""The API's routers, one per resource."""

from __future__ import annotations

from fastapi import APIRouter

from serving.api.routes import (
    admin,
    campaigns,
    counters,
    customers,
    events,
    feedback,
    health,
    metrics,
    preferences,
    reports,
    tariffs,
)

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(metrics.router)
api_router.include_router(customers.router)
api_router.include_router(preferences.router)
api_router.include_router(feedback.router)
api_router.include_router(events.router)
api_router.include_router(reports.router)
api_router.include_router(admin.router)
api_router.include_router(counters.router)
api_router.include_router(campaigns.router)
api_router.include_router(tariffs.router)
