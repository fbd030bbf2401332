"""Bring a database to the newest schema with the project's Alembic migrations."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"


def alembic_config(url: str) -> Config:
    """The packaged configuration, pointed at `url` (kept out of the ini's interpolation)."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


@cache
def heads() -> frozenset[str]:
    """The newest revisions the code ships (read once: readiness asks often)."""
    return frozenset(ScriptDirectory.from_config(Config(str(ALEMBIC_INI))).get_heads())


def pending(engine: Engine) -> bool:
    """Whether the database is behind the newest migration (readiness says so)."""
    with engine.connect() as connection:
        current = frozenset(MigrationContext.configure(connection).get_current_heads())
    return current != heads()
