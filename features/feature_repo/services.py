"""Feature services: the versioned contract between the feature store and its consumers."""

from feast import FeatureService

from features.feature_repo.on_demand import service_recency
from features.feature_repo.views import (
    appliances_fv,
    billing_fv,
    consumption_fv,
    engagement_fv,
    scores_fv,
    service_fv,
    service_live_fv,
)

customer_profile_v1 = FeatureService(
    name="customer_profile_v1",
    features=[
        consumption_fv,
        billing_fv,
        service_fv,
        service_live_fv,
        engagement_fv,
        appliances_fv,
        scores_fv,
        service_recency,
    ],
    description="The full customer profile shown at the counter and used by the service.",
    tags={"owner": "serving"},
)

risk_models_v1 = FeatureService(
    name="risk_models_v1",
    features=[consumption_fv, billing_fv, service_fv, engagement_fv, appliances_fv],
    description="Inputs of the churn and complaint models (batch features only).",
    tags={"owner": "training"},
)
