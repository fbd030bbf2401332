"""Online profiles from SQLite and from the real Redis, and real-time pushes."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from feast import FeatureStore

from features.materialize import materialize
from features.online import OnlineProfiles
from features.profiles import VIEWS
from features.store import apply_definitions, open_store
from powerhall.contract import EventKind
from powerhall.errors import ContractError
from powerhall.settings import Settings
from tests.support import require_service


@pytest.fixture(scope="module")
def redis_store(
    built: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FeatureStore]:
    require_service("Redis", "127.0.0.1", 6379)
    registry = tmp_path_factory.mktemp("registry") / "registry.db"
    settings = built.model_copy(
        update={
            "feature_store": "production",
            "feast_registry_url": f"sqlite:///{registry}",
            "redis_connection": "127.0.0.1:6379",
            # A project of its own: its keys cannot meet anyone else's in the shared Redis.
            "feast_project": f"powerhall_test_{uuid.uuid4().hex[:8]}",
        }
    )
    store = open_store(settings)
    apply_definitions(store)
    materialize(
        store,
        settings.model_copy(update={"data_dir": _state_dir(built, tmp_path_factory)}),
        full=True,
    )
    yield store
    store.teardown()


def _state_dir(built: Settings, factory: pytest.TempPathFactory) -> Path:
    """A data dir sharing the offline tables but with its own materialization state."""
    data = factory.mktemp("redis-data")
    (data / "features").symlink_to(built.offline_dir)
    return data


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def profiles(request: pytest.FixtureRequest) -> OnlineProfiles:
    store = request.getfixturevalue(f"{request.param}_store")
    return OnlineProfiles(store)


def _latest(built: Settings, view: str) -> pd.DataFrame:
    frame = pd.read_parquet(built.offline_dir / view)
    return (
        frame.sort_values("event_timestamp").groupby("customer_id").tail(1).set_index("customer_id")
    )


def _same(online: object, offline: object) -> bool:
    if offline is None or (isinstance(offline, float) and math.isnan(offline)) or offline is pd.NaT:
        return online is None
    if isinstance(offline, pd.Timestamp):
        return online == offline.to_pydatetime()
    return online == pytest.approx(offline)


def test_profiles_equal_the_latest_offline_snapshot(
    profiles: OnlineProfiles, built: Settings, world
) -> None:
    customers = sorted(world.customers)[:4]
    for profile in profiles.get_many(customers):
        for view in VIEWS:
            if view.name == "service_live":
                continue  # pushes may have moved it on
            latest = _latest(built, view.name).loc[profile.customer_id]
            assert profile.updated_at[view.name] == latest["event_timestamp"].to_pydatetime()
            for feature in view.features:
                assert _same(profile.features[feature.name], latest[feature.name]), feature.name


def test_profiles_come_back_in_the_order_asked(profiles: OnlineProfiles, world) -> None:
    asked = [world.customers[3], "nobody", world.customers[0]]
    got = profiles.get_many(asked)
    assert [p.customer_id for p in got] == asked
    assert [p.found for p in got] == [True, False, True]
    unknown = got[1]
    assert set(unknown.features.values()) == {None}
    assert unknown.features["days_since_last_complaint"] is None


def test_versions_name_every_view_of_the_service(profiles: OnlineProfiles) -> None:
    assert set(profiles.versions) == {v.name for v in VIEWS} | {"scores", "service_recency"}
    assert all(isinstance(n, int) and n >= 0 for n in profiles.versions.values())


def test_on_demand_recency_counts_from_the_request_time(profiles: OnlineProfiles, world) -> None:
    cid = world.customers[1]
    last = profiles.get(cid).features["last_outage_at"]
    later = profiles.get(cid, at=last + timedelta(days=2, hours=12))
    assert later.features["days_since_last_outage"] == pytest.approx(2.5)


def test_a_pushed_complaint_shows_at_once(profiles: OnlineProfiles, world) -> None:
    cid = world.customers[-1]
    before = profiles.get(cid).features
    filed = datetime.now(UTC).replace(microsecond=0)
    profiles.record_event(cid, EventKind.COMPLAINT, filed)
    after = profiles.get(cid, at=filed + timedelta(hours=6)).features
    assert after["last_complaint_at"] == filed
    assert after["days_since_last_complaint"] == pytest.approx(0.25)
    assert after["last_outage_at"] == before["last_outage_at"]  # other live fields kept


def test_an_older_event_does_not_move_the_latest_back(profiles: OnlineProfiles, world) -> None:
    cid = world.customers[-2]
    latest = profiles.get(cid).features["last_app_login_at"]
    profiles.record_event(cid, EventKind.APP_LOGIN, latest - timedelta(days=30))
    assert profiles.get(cid).features["last_app_login_at"] == latest


def test_only_live_event_kinds_are_pushed(profiles: OnlineProfiles) -> None:
    with pytest.raises(ContractError, match="hall_visit"):
        profiles.record_event("C0000", EventKind.HALL_VISIT, datetime.now(UTC))
