"""Feature views. Batch views take name, type and description of every field from the
profile catalogue (`features.profiles.catalogue`), so the builder and Feast cannot drift."""

from datetime import timedelta

from feast import FeatureView, Field
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

SNAPSHOT_TTL = timedelta(days=7)
"""Snapshots are weekly: a point in time reads the latest snapshot of the week before it."""

_TAGS = {"owner": "profiles", "builder": "powerhall features build"}

consumption_fv = FeatureView(
    name=CONSUMPTION.name,
    entities=[customer],
    ttl=SNAPSHOT_TTL,
    schema=fields_of(CONSUMPTION),
    source=consumption_source,
    description=CONSUMPTION.description,
    tags=_TAGS,
)

billing_fv = FeatureView(
    name=BILLING.name,
    entities=[customer],
    ttl=SNAPSHOT_TTL,
    schema=fields_of(BILLING),
    source=billing_source,
    description=BILLING.description,
    tags=_TAGS,
)

service_fv = FeatureView(
    name=SERVICE.name,
    entities=[customer],
    ttl=SNAPSHOT_TTL,
    schema=fields_of(SERVICE),
    source=service_source,
    description=SERVICE.description,
    tags=_TAGS,
)

engagement_fv = FeatureView(
    name=ENGAGEMENT.name,
    entities=[customer],
    ttl=SNAPSHOT_TTL,
    schema=fields_of(ENGAGEMENT),
    source=engagement_source,
    description=ENGAGEMENT.description,
    tags=_TAGS,
)

appliances_fv = FeatureView(
    name=APPLIANCES.name,
    entities=[customer],
    ttl=SNAPSHOT_TTL,
    schema=fields_of(APPLIANCES),
    source=appliances_source,
    description=APPLIANCES.description,
    tags=_TAGS,
)

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
