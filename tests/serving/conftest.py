"""The service on a temporary SQLite database and a small, materialized feature store.

The data (a small lake, its profiles, an applied and materialized Feast store) is built
once per session; each test gets its own copy of it (events write to the online store)
and its own database with the directory synced, one key per role, and a TestClient.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from features.materialize import materialize
from features.profiles import build_profiles
from features.store import apply_definitions, open_store
from powerhall.settings import Settings
from serving.auth import Role, create_key
from serving.db.engine import make_engine, session_factory
from serving.db.migrate import upgrade
from serving.db.tables import ApiKey, CounterSession
from serving.directory import sync_customers
from serving.main import create_app
from tests.features.lake import World, small_world

HALL = "H01"
"""The hall of every customer of the small world."""
OTHER_HALL = "H02"


@dataclass(frozen=True)
class Keys:
    """Tokens of one key per role (and a counter key of another hall)."""

    admin: str
    app: str
    counter: str
    other_counter: str

    @staticmethod
    def header(token: str) -> dict[str, str]:
        return {"X-API-Key": token}


@pytest.fixture(scope="session")
def serving_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    data = tmp_path_factory.mktemp("serving-data")
    world = small_world(data / "lake", customers=8, days=420)
    settings = Settings(data_dir=data)
    build_profiles(settings.lake_dir, settings.offline_dir)
    store = open_store(settings)
    apply_definitions(store)
    materialize(store, settings, full=True)
    return world


@pytest.fixture
def settings(serving_world: World, tmp_path: Path) -> Settings:
    """A private copy of the session's data, and an empty SQLite database at head. Answers
    rank by expected value only: which answers explore depends on the day the tests run
    (tests/serving/suggestions/test_exploration.py covers exploration)."""
    data = tmp_path / "data"
    shutil.copytree(serving_world.lake_dir.parent, data)
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite:///{tmp_path / 'service.db'}",
        exploration_share=0,
    )
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        sync_customers(session, settings.lake_dir)
    engine.dispose()
    return settings


@pytest.fixture
def keys(settings: Settings) -> Keys:
    return create_keys(settings.database_url)


def create_keys(database_url: str) -> Keys:
    """One key per role in the database at `database_url` (the fault tests bring their own
    PostgreSQL database)."""
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    with session_factory(engine)() as session:
        tokens = {
            name: create_key(session, role=role, name=name, hall_id=hall, now=now)[1]
            for name, role, hall in (
                ("admin", Role.ADMIN, None),
                ("app", Role.APP, None),
                ("counter", Role.COUNTER, HALL),
                ("other_counter", Role.COUNTER, OTHER_HALL),
            )
        }
    engine.dispose()
    return Keys(**tokens)


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An MLflow registry without champions: answers come from the batch scores and the
    engine's own fallbacks, never from whatever ./mlruns holds on this machine."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def app(settings: Settings, tracking_uri: str) -> FastAPI:
    return create_app(settings, tracking_uri=tracking_uri)


@pytest.fixture
def identify(settings: Settings) -> Callable[..., None]:
    """Record that a counter identified a customer (what the counters route stores)."""

    def identify(
        customer_id: str, *, hall_id: str = HALL, counter_id: str = "1", at: datetime | None = None
    ) -> None:
        engine = make_engine(settings.database_url)
        with session_factory(engine)() as session:
            key_id = session.scalars(select(ApiKey.id).order_by(ApiKey.id)).first()
            session.add(
                CounterSession(
                    hall_id=hall_id,
                    counter_id=counter_id,
                    customer_id=customer_id,
                    identified_by="customer_id",
                    staff_id="S01",
                    key_id=key_id,
                    started_at=at or datetime.now(UTC),
                )
            )
            session.commit()
        engine.dispose()

    return identify


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client
