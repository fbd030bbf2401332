"""Alembic at head creates exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from serving.db.metadata import metadata
from serving.db.migrate import alembic_config, pending, upgrade
from tests.serving.databases import fresh_database

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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Engine]]:
    with fresh_database(request, tmp_path_factory) as (url, engine):
        yield url, engine


def test_preferences_upgrade_keeps_customers_and_downgrade_removes_them(
    empty_db: tuple[str, Engine],
) -> None:
    """0003 gives every existing customer peer comparisons (opting out is theirs to do);
    its downgrade drops the column in place, with rows that refer to the customer (a
    SQLite rebuild of the table would break their foreign keys), and upgrades again."""
    url, engine = empty_db
    upgrade(url, "0002_push")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO customers (customer_id, segment, region, tariff_id, has_app, "
                "push_consent, created_at) VALUES ('C1', 'residential', 'shanghai', 't', "
                ":yes, :yes, :at)"
            ),
            {"yes": True, "at": datetime(2024, 1, 1, tzinfo=UTC)},
        )
        connection.execute(
            text(
                "INSERT INTO events (event_id, customer_id, kind, ts, payload, received_at) "
                "VALUES ('E1', 'C1', 'outage', :at, '{}', :at)"
            ),
            {"at": datetime(2024, 1, 2, tzinfo=UTC)},
        )
    upgrade(url, "0003_preferences")

    def customers() -> list[tuple]:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text("SELECT * FROM customers"))]

    columns = {c["name"] for c in inspect(engine).get_columns("customers")}
    assert "peer_comparison" in columns
    (row,) = customers()
    assert row[0] == "C1" and bool(row[-1]) is True

    command.downgrade(alembic_config(url), "0002_push")
    assert {c["name"] for c in inspect(engine).get_columns("customers")} == columns - {
        "peer_comparison"
    }
    assert [r[0] for r in customers()] == ["C1"]
    upgrade(url)
    assert not pending(engine)
