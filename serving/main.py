"""The FastAPI application: `create_app` builds it; its lifespan opens what every request
shares (database engine, profile reader, suggestion engine and champions, the answer
recorder) once per process."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from features.online import OnlineProfiles
from features.store import bound_request_waits, open_store
from powerhall.settings import Settings, get_settings
from serving.api.main import api_router
from serving.api.routes.tariffs import COMPARE_PATH
from serving.auth import RateLimiter
from serving.db.engine import make_engine, session_factory
from serving.errors import install_error_handlers
from serving.metrics import ServiceMetrics
from serving.middleware import BodySizeLimit, RequestTiming
from serving.recorder import AnswerRecorder
from serving.suggestions.engine import build_suggester

logger = logging.getLogger(__name__)

DESCRIPTION = """Personalised suggestions for an electricity retailer's customers.

Every endpoint but `/healthz`, `/readyz` and `/metrics` needs an API key
(`X-API-Key`, `Authorization: Bearer`, or the counter page's cookie). Errors always have
the shape `{"error": {"status", "code", "message", "details"}}`."""


def open_profiles(settings: Settings) -> OnlineProfiles | None:
    """The profile reader, or None when the feature store cannot be opened: the service
    then answers from segment defaults (degraded) instead of refusing to start. A Redis
    store waits at most `online_store_timeout_seconds` per command, so that one that stops
    answering degrades answers instead of holding requests."""
    try:
        store = open_store(settings)
        bound_request_waits(store, settings.online_store_timeout_seconds)
        return OnlineProfiles(store)
    except Exception as exc:  # any backend's failure: Feast raises many unrelated types
        logger.warning("online feature store unavailable, answers are degraded: %s", exc)
        return None


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open what requests share; then freeze the garbage collector's view of it.

    Feast, MLflow, pandas and the models leave about half a million long-lived objects,
    and a full collection walks all of them (close to a second on a busy machine), a
    pause every request in flight waits for, every so many requests. Frozen, they are left
    out of every collection; they are unfrozen when the app stops, so that an app that
    goes away (tests build many) can be collected.
    """
    settings: Settings = app.state.settings
    engine = make_engine(settings.database_url)
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.profiles = open_profiles(settings)
    app.state.suggester = build_suggester(settings, tracking_uri=app.state.tracking_uri)
    app.state.metrics.set_model_versions(app.state.suggester.model_versions)
    app.state.recorder = AnswerRecorder(engine)
    gc.freeze()
    try:
        yield
    finally:
        app.state.recorder.close()  # every answer given is written before the engine goes
        engine.dispose()
        gc.unfreeze()


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
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        larger={COMPARE_PATH: settings.max_readings_body_bytes},
    )
    app.add_middleware(RequestTiming, metrics=app.state.metrics)
    app.include_router(api_router)
    return app
