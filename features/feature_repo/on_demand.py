"""On-demand views: features that depend on the time of the request."""

from datetime import datetime
from typing import Any

from feast import Field, RequestSource
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Float64, UnixTimestamp

from features.feature_repo.views import service_live_fv

request_time = RequestSource(
    name="request_time",
    schema=[
        Field(
            name="request_at",
            dtype=UnixTimestamp,
            description="When the profile is read (UTC); the event time in training data.",
        )
    ],
)

_RECENCY = {
    "days_since_last_complaint": "last_complaint_at",
    "days_since_last_outage": "last_outage_at",
    "days_since_last_app_login": "last_app_login_at",
}


def _days(now: datetime | None, then: datetime | None) -> float | None:
    if now is None or then is None:
        return None
    return (now - then).total_seconds() / 86_400


@on_demand_feature_view(
    sources=[service_live_fv, request_time],
    # Feast 0.67 compares inferred and declared fields including their descriptions, and
    # inferred ones have none, so the descriptions live in the view's description.
    schema=[Field(name=name, dtype=Float64) for name in _RECENCY],
    mode="python",
    description="Recency of service events, computed at request time so it is never stale: "
    + "; ".join(f"{name} = days from {column} to request_at" for name, column in _RECENCY.items())
    + " (null if never).",
)
def service_recency(inputs: dict[str, Any]) -> dict[str, Any]:
    now = inputs["request_at"]
    return {
        name: [_days(n, then) for n, then in zip(now, inputs[column], strict=True)]
        for name, column in _RECENCY.items()
    }
