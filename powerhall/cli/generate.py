"""`powerhall generate`: synthetic customers, readings, bills and events, with hidden truth."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from powerhall import synthetic
from powerhall.console import make_console
from powerhall.settings import get_settings


def generate(
    customers: Annotated[int, typer.Option(min=1, help="Number of customers.")] = 5000,
    days: Annotated[int, typer.Option(min=1, help="Days of readings, ending on --end.")] = 730,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Random seed (default: settings, 7).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output directory (default: settings, data/raw).")
    ] = None,
    end: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help=f"Last day of the window (default: {synthetic.DEFAULT_END.isoformat()}).",
        ),
    ] = None,
    chunk_size: Annotated[
        int,
        typer.Option(min=1, help="Customers generated at once (bounds memory; one part each)."),
    ] = synthetic.DEFAULT_CHUNK_SIZE,
) -> None:
    """Write the five contract tables and the hidden truth for synthetic customers.

    The same seed gives the same files. The truth (appliances, propensities, the labels'
    probabilities) goes to OUT/truth and is never ingested.
    """
    settings = get_settings()
    seed = settings.seed if seed is None else seed
    out = settings.raw_dir if out is None else out
    console = make_console()
    began = time.perf_counter()
    with Progress(
        TextColumn("generating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("customers"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("generate", total=customers)
        manifest = synthetic.generate(
            customers=customers,
            days=days,
            seed=seed,
            out=out,
            end=synthetic.DEFAULT_END if end is None else end.date(),
            chunk_size=chunk_size,
            on_chunk=lambda done: progress.advance(task, done),
        )
    summary = RichTable("table", "rows", title=f"{out} ({manifest['start']} to {manifest['end']})")
    for table, count in manifest["rows"].items():
        summary.add_row(table, f"{count:,}")
    console.print(summary)
    console.print(
        f"{customers:,} customers x {days} days in {time.perf_counter() - began:.1f} s; "
        f"hidden truth in {out / synthetic.TRUTH_DIR}"
    )
