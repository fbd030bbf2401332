"""The FastAPI application: `create_app` builds it; its lifespan opens what every request
shares (database engine, profile reader, suggestion engine and champions) once per process."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from features.online import OnlineProfiles
from features.store import open_store
from powerhall.settings import Settings, get_settings
from serving.api.main import api_router
from serving.auth import RateLimiter
from serving.db.engine import make_engine, session_factory
from serving.errors import install_error_handlers
from serving.metrics import ServiceMetrics
from serving.middleware import BodySizeLimit, RequestTiming
from serving.suggestions.engine import build_suggester

logger = logging.getLogger(__name__)

DESCRIPTION = """Personalised suggestions for an electricity retailer's customers.

Every endpoint but `/healthz`, `/readyz` and `/metrics` needs an API key
(`X-API-Key`, `Authorization: Bearer`, or the counter page's cookie). Errors always have
the shape `{"error": {"status", "code", "message", "details"}}`."""


def open_profiles(settings: Settings) -> OnlineProfiles | None:
    """The profile reader, or None when the feature store cannot be opened: the service
    then answers from segment defaults (degraded) instead of refusing to start."""
    try:
        return OnlineProfiles(open_store(settings))
    except Exception as exc:  # any backend's failure: Feast raises many unrelated types
        logger.warning("online feature store unavailable, answers are degraded: %s", exc)
        return None


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = make_engine(settings.database_url)
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.profiles = open_profiles(settings)
    app.state.suggester = build_suggester(settings, tracking_uri=app.state.tracking_uri)
    app.state.metrics.set_model_versions(app.state.suggester.model_versions)
    try:
        yield
    finally:
        engine.dispose()


def create_app(settings: Settings | None = None, *, tracking_uri: str | None = None) -> FastAPI:
    """The app; `tracking_uri` is the MLflow registry of the champions (default: MLflow's
    own, MLFLOW_TRACKING_URI or ./mlruns)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="powerhall",
        summary="Suggestions API for the counter screen, the app and campaigns.",
        description=DESCRIPTION,
        version="1.0.0",
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.tracking_uri = tracking_uri
    app.state.metrics = ServiceMetrics()
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestTiming, metrics=app.state.metrics)
    app.include_router(api_router)
    return app
