"""Fixtures shared by the whole suite: real services are used for real."""

from __future__ import annotations

import pytest

from tests.support import require_service


@pytest.fixture(scope="session")
def redis_url() -> str:
    require_service("Redis", "127.0.0.1", 6379)
    return "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return "postgresql+psycopg://postgres@127.0.0.1:5432/test"
