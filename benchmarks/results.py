"""Benchmark results as JSON: every benchmark records its rows here, `report.py` reads them.

Each benchmark still prints its own table; `record` also writes
`benchmarks/results/<benchmark>.json`, so that `make bench` can print one table of every
ratio and goal measured on this machine, and the README quotes a file, not a memory.

A row is one measured comparison: ours against a reference measured in the same run.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Row:
    """One measured figure. `ratio` is ours / reference when both are measured; `goal` is
    what the issue asks (e.g. ">= 0.5x bare", "<= 20 ms"), `met` whether this run met it
    (None when there is no goal)."""

    what: str
    ours: float
    unit: str
    reference: float | None = None
    reference_name: str | None = None
    ratio: float | None = None
    goal: str | None = None
    met: bool | None = None


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }


def record(
    benchmark: str,
    rows: list[Row],
    *,
    parameters: dict[str, Any] | None = None,
    series: dict[str, list[dict[str, Any]]] | None = None,
) -> Path:
    """Write the rows of one benchmark run; the latest run of a benchmark replaces the last.

    `series` holds curves to plot (e.g. the scale curve: one point per size and engine)."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{benchmark}.json"
    document = {
        "benchmark": benchmark,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "parameters": parameters or {},
        "rows": [asdict(row) for row in rows],
        "series": series or {},
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return path


def load_all(directory: Path = RESULTS_DIR) -> list[dict[str, Any]]:
    """Every recorded benchmark, in name order."""
    return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]
