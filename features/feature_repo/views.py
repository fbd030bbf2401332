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
            name="churn_reasons",
            dtype=String,
            description="Why churn_risk is high: JSON list (at most 3) of "
            '{"feature", "value", "zh-CN", "en"}; [] outside the top decile of the segment '
            "(reasons_above_quantile) or when nothing speakable raised it; null where not "
            "scored (residential).",
        ),
        Field(
            name="complaint_reasons",
            dtype=String,
            description="Why complaint_risk_30d is high: JSON list (at most 3) of "
            '{"feature", "value", "zh-CN", "en"}; [] outside the top decile of the segment '
            "(reasons_above_quantile) or when nothing speakable raised it.",
        ),
        Field(
            name="best_tariff_id",
            dtype=String,
            description="Eligible tariff of the highest expected value (acceptance x saving); "
            "the current tariff when none saves the threshold (advice stay); null for "
            "insufficient_data and vacant.",
        ),
        Field(
            name="best_tariff_saving_cny_365d",
            dtype=Float64,
            description="Forecast saving (P50) in yuan over the next 12 months on "
            "best_tariff_id, billed by the tariff engine; 0 when the advice is stay.",
        ),
        Field(
            name="best_tariff_saving_p10_cny",
            dtype=Float64,
            description="Low end (P10) of the saving band in yuan: next year's volume at the "
            "band's P10 or P90, whichever saves less.",
        ),
        Field(
            name="best_tariff_saving_p90_cny",
            dtype=Float64,
            description="High end (P90) of the saving band in yuan.",
        ),
        Field(
            name="best_tariff_acceptance",
            dtype=Float64,
            description="Calibrated probability (0-1) that the customer accepts best_tariff_id "
            "offered at the counter; null unless the advice is switch.",
        ),
        Field(
            name="best_tariff_bill_risk_cny",
            dtype=Float64,
            description="Extra yuan over staying in the bad case of the band if habits do not "
            "change (time-of-use moves only; 0 otherwise).",
        ),
        Field(
            name="tariff_advice",
            dtype=String,
            description="switch, stay (nothing saves enough), insufficient_data (under 270 days "
            "or 75 % of hours of readings) or vacant (near-zero use: no saving advice).",
        ),
        Field(
            name="top_tips",
            dtype=String,
            description="JSON list, best first, of at most 3 eligible energy-saving tips "
            '{"tip_id", "score", "saving_cny_365d"} ranked by the tips model; [] when none '
            "is eligible.",
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
