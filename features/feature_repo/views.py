"""Feature views. Batch views take name, type and description of every field from the
profile catalogue (`features.profiles.catalogue`), so the builder and Feast cannot drift."""

from datetime import timedelta

from feast import FeatureView, Field, FileSource
from feast.types import Float64, String

from features.feature_repo.entities import customer
from features.feature_repo.fields import fields_of
from features.feature_repo.sources import (
    appliances_source,
    billing_source,
    consumption_source,
    engagement_source,
    scores_source,
    service_events_push_source,
    service_source,
)
from features.profiles.catalogue import (
    APPLIANCES,
    BILLING,
    CONSUMPTION,
    ENGAGEMENT,
    SERVICE,
    SERVICE_LIVE,
)
from features.profiles.model import View

SNAPSHOT_TTL = timedelta(days=7)
"""Snapshots are weekly: a point in time reads the latest snapshot of the week before it."""

_TAGS = {"owner": "profiles", "builder": "powerhall features build"}


def _snapshot_view(view: View, source: FileSource) -> FeatureView:
    """A view over the builder's weekly snapshots: name, fields and text from the catalogue."""
    return FeatureView(
        name=view.name,
        entities=[customer],
        ttl=SNAPSHOT_TTL,
        schema=fields_of(view),
        source=source,
        description=view.description,
        tags=_TAGS,
    )


consumption_fv = _snapshot_view(CONSUMPTION, consumption_source)

billing_fv = _snapshot_view(BILLING, billing_source)

service_fv = _snapshot_view(SERVICE, service_source)

engagement_fv = _snapshot_view(ENGAGEMENT, engagement_source)

appliances_fv = _snapshot_view(APPLIANCES, appliances_source)

service_live_fv = FeatureView(
    name=SERVICE_LIVE.name,
    entities=[customer],
    ttl=timedelta(0),  # the latest event stays the latest until a newer one arrives
    schema=fields_of(SERVICE_LIVE),
    source=service_events_push_source,
    description=SERVICE_LIVE.description,
    tags={**_TAGS, "realtime": "push"},
)

scores_fv = FeatureView(
    name="scores",
    entities=[customer],
    ttl=timedelta(days=31),
    schema=[
        Field(
            name="churn_risk",
            dtype=Float64,
            description="Calibrated probability (0-1) that a C&I customer leaves within 90 days.",
        ),
        Field(
            name="complaint_risk_30d",
            dtype=Float64,
            description="Calibrated probability (0-1) of a complaint in the next 30 days.",
        ),
        Field(
            name="best_tariff_id",
            dtype=String,
            description="Eligible tariff with the highest expected saving "
            "(may be the current one).",
        ),
        Field(
            name="best_tariff_saving_cny_365d",
            dtype=Float64,
            description="Expected saving in yuan over the next 365 days on best_tariff_id.",
        ),
        Field(
            name="scores_model_versions",
            dtype=String,
            description="Registered model versions that produced these scores, "
            "e.g. churn:3,complaint:5.",
        ),
    ],
    source=scores_source,
    description="Batch model scores written back by training; refreshed by powerhall score.",
    tags={"owner": "training"},
)

BATCH_VIEWS = (consumption_fv, billing_fv, service_fv, engagement_fv, appliances_fv, scores_fv)
"""Views materialized from offline tables (the live view is also fed by pushes)."""
