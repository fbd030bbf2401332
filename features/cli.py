"""`powerhall features ...`: build the offline profiles, register them, serve them online."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from features.profiles import DEFAULT_BUCKET_CUSTOMERS, build_profiles
from powerhall.console import make_console
from powerhall.errors import ContractError
from powerhall.settings import get_settings

# Feast and the materializer are imported inside the commands that use them: importing
# Feast takes seconds, and `powerhall --help` should not pay for it.
app = typer.Typer(help="Customer profiles in the Feast feature store.", no_args_is_help=True)
console = make_console()


class EngineChoice(StrEnum):
    DUCKDB = "duckdb"
    SPARK = "spark"


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _monday(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise ContractError(f"{option} must be a date like 2024-01-01, got {value!r}") from exc
    return day - timedelta(days=day.weekday())


@app.command()
def build(
    engine: Annotated[
        EngineChoice, typer.Option(help="duckdb (embedded) or spark (local mode).")
    ] = EngineChoice.DUCKDB,
    since: Annotated[
        str | None, typer.Option(help="First snapshot (its week's Monday); default: all.")
    ] = None,
    latest: Annotated[
        bool, typer.Option("--latest", help="Only the newest snapshot (the profile to serve).")
    ] = False,
    bucket_customers: Annotated[
        int,
        typer.Option(min=1, help="Customers built at once: bounds the engine's memory and spill."),
    ] = DEFAULT_BUCKET_CUSTOMERS,
) -> None:
    """Write the weekly profile snapshots of every customer from the lake."""
    settings = get_settings()
    with _progress() as progress:
        task = progress.add_task("building", total=None)

        def done(written: int, total: int, view: str) -> None:
            progress.update(task, completed=written, total=total, description=view)

        result = build_profiles(
            settings.lake_dir,
            settings.offline_dir,
            engine=engine.value,
            since=_monday(since, "--since"),
            latest_only=latest,
            timezone=settings.timezone,
            bucket_customers=bucket_customers,
            on_progress=done,
        )
    table = RichTable("view", "rows", title=f"{len(result.snapshots)} weekly snapshots")
    for view, rows in result.rows.items():
        table.add_row(view, f"{rows:,}")
    console.print(table)
    console.print(f"offline tables in {result.out_dir}")


@app.command()
def apply() -> None:
    """Register entities, views and feature services in the Feast registry."""
    from features.store import apply_definitions, open_store

    settings = get_settings()
    apply_definitions(open_store(settings))
    console.print(f"registered the feature repository ({settings.feature_store} store)")


@app.command()
def materialize(
    full: Annotated[
        bool, typer.Option("--full", help="Write every customer, not only changed ones.")
    ] = False,
    view: Annotated[list[str] | None, typer.Option(help="Only these views (repeatable).")] = None,
) -> None:
    """Load each customer's latest profile into the online store (changes only)."""
    from features.materialize import materialize as materialize_views
    from features.store import apply_definitions, open_store

    settings = get_settings()
    store = open_store(settings)
    apply_definitions(store)
    with _progress() as progress:
        tasks: dict[str, int] = {}

        def report(name: str, written: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(name, total=total or 1)
            progress.update(tasks[name], completed=written if total else 1)

        results = materialize_views(store, settings, views=view, full=full, progress=report)
    table = RichTable("view", "customers", "written")
    for r in results:
        table.add_row(r.view, f"{r.customers:,}", f"{r.written:,}")
    console.print(table)
