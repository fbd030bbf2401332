"""Alembic at head creates exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from serving.db.metadata import metadata
from serving.db.migrate import pending, upgrade

CORE_TABLES = {
    "customers",
    "api_keys",
    "counter_sessions",
    "suggestions_served",
    "suggestion_outcomes",
    "events",
    "audit_log",
}


def test_upgrade_head_creates_the_core_tables(migrated_db: tuple[str, Engine]) -> None:
    _, engine = migrated_db
    assert set(inspect(engine).get_table_names()) >= CORE_TABLES
    assert not pending(engine)


def test_migrations_match_the_models(migrated_db: tuple[str, Engine]) -> None:
    """Autogenerate finds nothing to add, drop or change: migrations and models agree.

    Only tables present are compared, so a package's models whose migration is not
    written yet do not hide the comparison of the others.
    """
    _, engine = migrated_db
    present = set(inspect(engine).get_table_names())

    def include(obj: object, name: str | None, type_: str, reflected: bool, other: object) -> bool:
        table = getattr(obj, "table", obj) if type_ != "table" else obj
        return getattr(table, "name", name) in present

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include, "compare_type": True}
        )
        assert compare_metadata(context, metadata) == []


def test_upgrade_twice_is_a_no_op(migrated_db: tuple[str, Engine]) -> None:
    url, engine = migrated_db
    upgrade(url)
    assert not pending(engine)
