"""The Feast repository: what `apply` registers, and how every feature is described."""

from __future__ import annotations

import pandas as pd
from feast import FeatureStore

from features.feature_repo import DEFINITIONS
from features.profiles import VIEWS
from powerhall.settings import Settings


def test_apply_registers_every_view_and_service(sqlite_store: FeatureStore) -> None:
    views = {fv.name for fv in sqlite_store.list_feature_views()}
    assert {v.name for v in VIEWS} | {"scores"} <= views
    assert {s.name for s in sqlite_store.list_feature_services()} == {
        "customer_profile_v1",
        "risk_models_v1",
    }
    assert [o.name for o in sqlite_store.list_on_demand_feature_views()] == ["service_recency"]
    assert [p.name for p in sqlite_store.list_data_sources() if p.name.endswith("_push")] == [
        "service_events_push"
    ]


def test_every_batch_feature_is_described_and_unique(sqlite_store: FeatureStore) -> None:
    names: list[str] = []
    for fv in sqlite_store.list_feature_views():
        assert fv.description, fv.name
        for field in fv.features:
            assert field.description, f"{fv.name}.{field.name} has no description"
            names.append(field.name)
    assert len(names) == len(set(names)), "a feature name appears in two views"


def test_offline_tables_match_the_registered_schemas(built: Settings) -> None:
    for view in VIEWS:
        columns = pd.read_parquet(built.offline_dir / view.name).columns
        assert list(columns) == ["customer_id", "event_timestamp", *(f.name for f in view.features)]


def test_definitions_are_unique_objects() -> None:
    names = [(type(d).__name__, d.name) for d in DEFINITIONS]
    assert len(names) == len(set(names))


def test_historical_features_are_point_in_time(sqlite_store: FeatureStore, built: Settings) -> None:
    offline = pd.read_parquet(built.offline_dir / "consumption")
    row = offline.iloc[len(offline) // 2]
    entity = pd.DataFrame(
        {
            "customer_id": [row["customer_id"]],
            # Mid-week: the snapshot of the Monday before is the one in force.
            "event_timestamp": [row["event_timestamp"] + pd.Timedelta(days=3)],
        }
    )
    result = sqlite_store.get_historical_features(
        entity_df=entity, features=["consumption:kwh_90d"]
    ).to_df()
    assert result["kwh_90d"].iloc[0] == row["kwh_90d"]
