"""Alembic environment: every package's tables (`serving.db.metadata`), URL from settings.

`serving.db.migrate` hands over a URL or an open connection in `config.attributes`;
run from the alembic CLI, the URL is `Settings.database_url`. SQLite alters tables in
batch mode (copy and rename), since it cannot alter most constraints in place.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from powerhall.settings import get_settings
from serving.db.engine import make_engine
from serving.db.metadata import metadata

config = context.config


def _url() -> str:
    return config.attributes.get("url") or get_settings().database_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _offline() -> None:
    """`alembic upgrade head --sql`: the DDL as a script for a DBA to review."""
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    _offline()
else:
    _online()
