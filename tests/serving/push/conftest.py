"""Migrated databases, a movable clock and a running gateway for the push tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from serving.db.engine import make_engine, session_factory
from serving.db.migrate import upgrade
from tests.serving.databases import fresh_database
from tests.serving.push.factories import NOW
from tests.serving.push.gateway import Gateway, running


class Clock:
    """The dispatcher's `now`, moved by the test instead of waited for."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'push.db'}"
    upgrade(url)
    return url


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of a migrated, empty database of each kind."""
    with fresh_database(request, tmp_path_factory) as (url, _):
        upgrade(url)
        yield url


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with running(Gateway()) as gateway:
        yield gateway
