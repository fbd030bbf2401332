"""A tiny lake, its profiles and an applied, materialized Feast store: built once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from feast import FeatureStore

from features.materialize import materialize
from features.profiles import build_profiles
from features.store import apply_definitions, open_store
from powerhall.settings import Settings
from tests.features.lake import World, small_world


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    data = tmp_path_factory.mktemp("data")
    return small_world(data / "lake", customers=8, days=420)


@pytest.fixture(scope="session")
def built(world: World) -> Settings:
    """Settings of a data directory whose offline tables are built (read-only for tests)."""
    settings = Settings(data_dir=world.lake_dir.parent)
    build_profiles(settings.lake_dir, settings.offline_dir)
    return settings


@pytest.fixture(scope="session")
def sqlite_store(built: Settings) -> Iterator[FeatureStore]:
    store = open_store(built)
    apply_definitions(store)
    materialize(store, built, full=True)
    yield store
