"""`powerhall db …`, `powerhall keys …` and `powerhall serve`: run and administer the service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table as RichTable
from sqlalchemy.orm import Session

from powerhall.console import make_console
from powerhall.settings import get_settings
from serving.auth import Role, create_key, list_keys, revoke_key
from serving.db.engine import make_engine, session_factory
from serving.db.migrate import upgrade
from serving.directory import sync_customers
from serving.feedback import export_outcomes

# The app (and with it Feast) is imported by `serve` only: `powerhall --help` stays fast.
db_app = typer.Typer(help="The service's database: migrations, customer directory.")
keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
feedback_app = typer.Typer(help="Customers' feedback on suggestions.", no_args_is_help=True)
console = make_console()


@contextmanager
def _session() -> Iterator[Session]:
    """A session on the configured database, migrated first (idempotent), so that
    `keys create` works on a fresh installation."""
    url = get_settings().database_url
    upgrade(url)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Migrate the database at POWERHALL_DATABASE_URL (default: SQLite beside the data)."""
    settings = get_settings()
    upgrade(settings.database_url, revision)
    console.print(f"Database at [bold]{revision}[/bold]: {_shown_url(settings.database_url)}")


@db_app.command("sync-customers")
def db_sync_customers() -> None:
    """Copy the lake's customers into the directory the API reads (idempotent upsert)."""
    settings = get_settings()
    with _session() as session:
        written = sync_customers(session, settings.lake_dir)
    console.print(f"Customer directory: {written:,} customers synced from {settings.lake_dir}")


@feedback_app.command("export")
def feedback_export() -> None:
    """Write outcomes not exported yet into the lake's suggestion_outcomes (idempotent),
    so that `features build` and retraining see them."""
    settings = get_settings()
    with _session() as session:
        written = export_outcomes(
            session, lake_dir=settings.lake_dir, timezone=settings.timezone, now=datetime.now(UTC)
        )
    console.print(f"Feedback: {written:,} outcomes written to {settings.lake_dir}")


def _shown_url(url: str) -> str:
    """The URL without its password, fit for a log."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@keys_app.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="counter, app or admin.")],
    hall: Annotated[
        str | None, typer.Option(help="The hall a counter key belongs to.", show_default=False)
    ] = None,
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
) -> None:
    """Create a key and print its token once: only its hash is stored."""
    with _session() as session:
        key, token = create_key(session, role=role, name=name, hall_id=hall, now=datetime.now(UTC))
    console.print(f"Key {key.id} ({key.role}{f', hall {key.hall_id}' if key.hall_id else ''})")
    console.print("Token (shown once, keep it secret):")
    typer.echo(token)


@keys_app.command("list")
def keys_list() -> None:
    """Every key, revoked ones included (the audit trail refers to them)."""
    with _session() as session:
        keys = list_keys(session)
    table = RichTable("id", "name", "role", "hall", "prefix", "created", "revoked")
    for key in keys:
        table.add_row(
            str(key.id),
            key.name,
            key.role,
            key.hall_id or "",
            key.prefix + "…",
            f"{key.created_at:%Y-%m-%d %H:%M}",
            f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="The key's id (keys list).")]) -> None:
    """Revoke a key: its next request is refused."""
    with _session() as session:
        key = revoke_key(session, key_id=key_id, now=datetime.now(UTC))
    console.print(f"Key {key.id} ({key.name}) revoked at {key.revoked_at:%Y-%m-%d %H:%M} UTC")


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Migrate the database, then serve the API with uvicorn."""
    import uvicorn

    settings = get_settings()
    upgrade(settings.database_url)
    console.print(f"Serving on http://{host}:{port} (docs at /docs)")
    uvicorn.run("serving.main:create_app", factory=True, host=host, port=port, workers=workers)
