"""Feature views. Batch views take name, type and description of every field from the
profile catalogue (`features.profiles.catalogue`), so the builder and Feast cannot drift."""

from datetime import timedelta

from feast import FeatureView, Field, FileSource
from feast.types import Float64, Int64, String

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
            name="peer_group",
            dtype=String,
            description="Similar homes the customer is compared with (features.peers): "
            "region/segment[/heating type[/capacity band]], the finest group with at least "
            "peer_min_group_size comparable customers; null when not compared (vacant, very "
            "small, under 75 of 90 days read, or no group large enough).",
        ),
        Field(
            name="peer_group_size",
            dtype=Int64,
            description="Comparable customers in peer_group.",
        ),
        Field(
            name="peer_median_kwh_30d",
            dtype=Float64,
            description="Median monthly kWh of peer_group (mean daily kWh of the last 90 days "
            "x 30): what similar homes use.",
        ),
        Field(
            name="peer_efficient_kwh_30d",
            dtype=Float64,
            description="20th percentile of peer_group's monthly kWh: what efficient similar "
            "homes use.",
        ),
        Field(
            name="peer_ratio",
            dtype=Float64,
            description="The customer's monthly kWh over peer_median_kwh_30d (1.23 = 23 % more "
            "than similar homes).",
        ),
        Field(
            name="bill_forecast_month",
            dtype=String,
            description="Month (YYYY-MM, local) of the bill forecast: the month of the day after "
            "the last reading (training.bill_score); null when not forecast (under 75 % of the "
            "last 28 days read, or a tariff not in the catalogue).",
        ),
        Field(
            name="bill_forecast_cny",
            dtype=Float64,
            description="Forecast bill of bill_forecast_month in yuan (P50): the readings so far "
            "plus the recent day-type profile moved by last year's season, billed by the tariff "
            "engine with the year's tiers.",
        ),
        Field(
            name="bill_forecast_p10_cny",
            dtype=Float64,
            description="Low end (P10) of the bill's band, measured by forecasting the same day "
            "of the three months before; null when too few backtests.",
        ),
        Field(
            name="bill_forecast_p90_cny",
            dtype=Float64,
            description="High end (P90) of the bill's band.",
        ),
        Field(
            name="bill_usual_cny",
            dtype=Float64,
            description="The usual bill of that month: the same month a year earlier, else the "
            "median bill of the 12 months before; null without earlier bills.",
        ),
        Field(
            name="tier_next",
            dtype=Int64,
            description="The next tier of the customer's tiered tariff (2 = the second); null "
            "in the last tier or on a tariff without tiers.",
        ),
        Field(
            name="tier_cross_date",
            dtype=String,
            description="Day (YYYY-MM-DD) the year's kWh is forecast to enter tier_next (P50), "
            "looked for up to the end of the next month; null when not within it.",
        ),
        Field(
            name="tier_cross_earliest",
            dtype=String,
            description="The same day at the band's P90 volume: the earliest likely.",
        ),
        Field(
            name="tier_cross_latest",
            dtype=String,
            description="The same day at the band's P10 volume: the latest likely (null: not "
            "within the horizon).",
        ),
        Field(
            name="bill_alert_reason",
            dtype=String,
            description='Why the month is up: JSON list (at most 3) of {"code", "value"}, code '
            "tier (value: the tier), cooling or heating (a seasonal rise with the appliance "
            "detected; value: the rise), ev (value: share of the rise in charging hours), "
            "evening (value: rise of evening use) or higher_use (value: the rise); [] when "
            "use is not up.",
        ),
        Field(
            name="scores_model_versions",
            dtype=String,
            description="Registered model versions that produced these scores, "
            "e.g. churn:3,complaint:5.",
        ),
    ],
    source=scores_source,
    description="Batch model scores, peer comparisons and bill forecasts written back by "
    "training; refreshed by powerhall score.",
    tags={"owner": "training"},
)

BATCH_VIEWS = (consumption_fv, billing_fv, service_fv, engagement_fv, appliances_fv, scores_fv)
"""Views materialized from offline tables (the live view is also fed by pushes)."""
