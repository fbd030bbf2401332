"""`powerhall ingest`: validate a folder of contract tables into the lake."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Group
from rich.table import Table as RichTable

from powerhall.console import make_console
from powerhall.ingest import IngestReport
from powerhall.ingest import ingest as run_ingest
from powerhall.settings import get_settings
from powerhall.tariffs import load_catalogue

TOP_REASONS = 10


def ingest(
    raw_dir: Annotated[
        Path | None,
        typer.Argument(
            help="Folder of contract tables [default: <data dir>/raw].", show_default=False
        ),
    ] = None,
    into: Annotated[
        Path | None,
        typer.Option("--into", help="Lake folder [default: <data dir>/lake].", show_default=False),
    ] = None,
    quarantine: Annotated[
        Path | None,
        typer.Option(
            "--quarantine",
            help="Folder for rejected rows [default: <data dir>/quarantine].",
            show_default=False,
        ),
    ] = None,
    tariffs: Annotated[
        Path | None,
        typer.Option(
            "--tariffs",
            help="Tariff folder whose ids customers and bills must use [default: shipped].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Validate contract tables (Parquet or CSV, UTF-8 or GBK) into the partitioned lake.

    Bad rows go to the quarantine with their reasons; re-ingesting the same files changes
    nothing, and a corrected row replaces the old one. A file that cannot be read stops
    the run before anything is written.
    """
    settings = get_settings()
    catalogue = load_catalogue(tariffs)
    console = make_console()
    with console.status("Reading the input...") as status:
        report = run_ingest(
            raw_dir or settings.raw_dir,
            into or settings.lake_dir,
            quarantine or settings.quarantine_dir,
            known_tariffs={tariff.id for tariff in catalogue},
            timezone=settings.timezone,
            on_file=lambda name: status.update(f"Checking {name}..."),
        )
    console.print(render_report(report))
    for skipped in report.skipped:
        console.print(f"Skipped {skipped.name}: {skipped.why}", highlight=False)


def render_report(report: IngestReport) -> Group:
    """Rows per table (read = accepted + quarantined) and lake changes, then the most
    frequent quarantine reasons of each table."""
    counts = RichTable(title="Ingest report", title_justify="left", box=None, pad_edge=False)
    counts.add_column("table", no_wrap=True)
    for header in ("read", "accepted", "quarantined", "new", "unchanged", "replaced"):
        counts.add_column(header, justify="right")
    reasons = RichTable(title="Quarantine reasons", title_justify="left", box=None, pad_edge=False)
    reasons.add_column("table", no_wrap=True)
    reasons.add_column("reason")
    reasons.add_column("rows", justify="right")
    for entry in report.tables.values():
        numbers = (
            entry.rows_read,
            entry.accepted,
            entry.quarantined,
            entry.new,
            entry.unchanged,
            entry.replaced,
        )
        counts.add_row(entry.table.value, *(f"{number:,}" for number in numbers))
        for reason, rows in entry.reasons.most_common(TOP_REASONS):
            reasons.add_row(entry.table.value, reason, f"{rows:,}")
        if len(entry.reasons) > TOP_REASONS:
            reasons.add_row(entry.table.value, f"… {len(entry.reasons) - TOP_REASONS} more", "")
    return Group(counts, reasons) if reasons.row_count else Group(counts)
