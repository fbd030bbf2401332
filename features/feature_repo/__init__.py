"""The Feast feature repository: entity -> sources -> views -> on-demand views -> services.

`DEFINITIONS` lists every object `powerhall features apply` registers.
"""

from features.feature_repo.entities import customer
from features.feature_repo.on_demand import service_recency
from features.feature_repo.services import customer_profile_v1, risk_models_v1
from features.feature_repo.sources import service_events_push_source
from features.feature_repo.views import BATCH_VIEWS, service_live_fv

DEFINITIONS = (
    customer,
    service_events_push_source,
    *BATCH_VIEWS,
    service_live_fv,
    service_recency,
    customer_profile_v1,
    risk_models_v1,
)
