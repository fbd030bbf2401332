"""Sources: the profile builder's offline tables, the scores training writes, real-time pushes.

Paths are relative to the data directory (`POWERHALL_DATA_DIR`), which powerhall passes
to Feast as its repo path, so that one definition serves every deployment.
"""

from feast import FileSource, PushSource


def _offline(view: str) -> FileSource:
    return FileSource(
        name=f"{view}_source",
        path=f"features/{view}",
        timestamp_field="event_timestamp",
        description=f"Weekly snapshots of the {view} features (powerhall features build).",
    )


consumption_source = _offline("consumption")
billing_source = _offline("billing")
service_source = _offline("service")
service_live_source = _offline("service_live")
engagement_source = _offline("engagement")
appliances_source = _offline("appliances")
scores_source = FileSource(
    name="scores_source",
    path="features/scores",
    timestamp_field="event_timestamp",
    description="Batch model scores written back by training (powerhall score).",
)

service_events_push_source = PushSource(
    name="service_events_push",
    batch_source=service_live_source,
    description="Real-time service events (complaint filed, outage, app login) "
    "from POST /v1/events.",
)
