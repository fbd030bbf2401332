"""Synthetic customers with a known hidden truth: `generate` writes the contract tables.

    >>> from powerhall.synthetic import generate
    >>> manifest = generate(customers=200, days=400, seed=7, out=Path("data/raw"))

Layout under `out`: one folder per contract table (``customers/``, ``readings/``,
``bills/``, ``service_events/``, ``suggestion_outcomes/``) holding ``part-NNNNN.parquet``,
one part per chunk of customers; ``truth/<name>/part-NNNNN.parquet`` for the hidden truth
(see `powerhall.synthetic.truth`); ``manifest.json``. Customers are generated chunk by
chunk, so memory stays bounded whatever their number, and the same seed gives the same
bytes. Random draws are keyed by blocks of `BLOCK_SIZE` customers, so the data do not
depend on the chunk size either (only how rows are split into parts does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any, Final

from powerhall.contract import Table
from powerhall.errors import PowerhallError
from powerhall.synthetic import tables, truth
from powerhall.synthetic.calendar_cn import borrowed_years
from powerhall.synthetic.chunk import build_world, simulate_chunk
from powerhall.synthetic.streams import BLOCK_SIZE
from powerhall.synthetic.writer import (
    MANIFEST,
    TRUTH_DIR,
    prepare_output,
    write_manifest,
    write_part,
    write_tables,
)
from powerhall.tariffs import TariffCatalogue, load_catalogue

GENERATOR_VERSION: Final = "1"
"""Bumped whenever the same seed starts giving different data."""
DEFAULT_END: Final = dt.date(2026, 6, 30)
DEFAULT_CHUNK_SIZE: Final = 500

__all__ = [
    "BLOCK_SIZE",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_END",
    "GENERATOR_VERSION",
    "MANIFEST",
    "TRUTH_DIR",
    "generate",
]


def _chunk_bounds(customers: int, chunk_size: int) -> list[tuple[int, int]]:
    size = -(-chunk_size // BLOCK_SIZE) * BLOCK_SIZE  # whole blocks
    return [(start, min(start + size, customers)) for start in range(0, customers, size)]


def generate(
    *,
    customers: int,
    days: int,
    seed: int,
    out: Path,
    end: dt.date = DEFAULT_END,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    catalogue: TariffCatalogue | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Write `customers` customers over the `days` days ending on `end`; return the manifest.

    `chunk_size` (rounded up to whole blocks of `BLOCK_SIZE`) bounds memory: about
    1 GB per 1,000 customers x 730 days. `on_chunk` is called with the number of customers
    each finished chunk held, for progress bars.
    """
    for name, value in (("customers", customers), ("days", days), ("chunk_size", chunk_size)):
        if value < 1:
            raise PowerhallError(f"{name} must be at least 1, got {value}")
    if seed < 0:
        raise PowerhallError(f"seed must be a non-negative integer, got {seed}")
    catalogue = load_catalogue() if catalogue is None else catalogue
    prepare_output(out)
    world = build_world(seed, days, end, catalogue)
    rows = {t.value: 0 for t in Table}
    truth_rows: dict[str, int] = {}
    bounds = _chunk_bounds(customers, chunk_size)
    for part, (start, stop) in enumerate(bounds):
        chunk = simulate_chunk(world, start, stop)
        suggestion_rows = tables.suggestion_rows(chunk)
        contract = {
            Table.CUSTOMERS: tables.customers(chunk),
            Table.READINGS: tables.readings(chunk),
            Table.BILLS: tables.bills(chunk),
            Table.SERVICE_EVENTS: tables.service_events(chunk),
            Table.SUGGESTION_OUTCOMES: tables.suggestion_outcomes(chunk, suggestion_rows),
        }
        hidden = truth.chunk_tables(chunk, suggestion_rows)
        write_tables(out, part, contract, hidden)
        for table, data in contract.items():
            rows[table.value] += data.num_rows
        for name, data in hidden.items():
            truth_rows[name] = truth_rows.get(name, 0) + data.num_rows
        if on_chunk is not None:
            on_chunk(stop - start)
    for name, data in truth.world_tables(world).items():
        write_part(out / TRUTH_DIR / name, 0, data)
        truth_rows[name] = data.num_rows
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "customers": customers,
        "days": days,
        "start": world.timeline.start.isoformat(),
        "end": end.isoformat(),
        "chunk_size": bounds[0][1] - bounds[0][0],
        "parts": len(bounds),
        "rows": rows,
        "truth_rows": truth_rows,
        "holiday_years_borrowed": {
            str(y): b for y, b in borrowed_years(world.timeline.dates).items()
        },
        "libraries": {name: version(name) for name in ("numpy", "pyarrow", "demandlib")},
    }
    write_manifest(out, manifest)
    return manifest
