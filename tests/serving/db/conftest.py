"""A freshly migrated database per test module, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from serving.db.migrate import upgrade
from tests.serving.databases import fresh_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def migrated_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Engine]]:
    with fresh_database(request, tmp_path_factory) as (url, engine):
        upgrade(url)
        yield url, engine
