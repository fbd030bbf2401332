"""Prometheus exposition of the app's own registry."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serving.api.deps import MetricsDep

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(metrics: MetricsDep) -> Response:
    """Request latency, suggestions served, model versions, degraded answers, outbox depth."""
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
