"""A deterministic, part-per-chunk Parquet writer of the contract tables.

Writer options are fixed (codec, level, dictionary use, row-group size, no pandas
metadata), and nothing depends on the clock, so the same seed gives byte-identical files.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from powerhall.contract import Table
from powerhall.errors import PowerhallError

TRUTH_DIR: Final = "truth"
MANIFEST: Final = "manifest.json"

_PARQUET_OPTIONS: Final[dict[str, Any]] = {
    "compression": "zstd",
    "compression_level": 1,
    "use_dictionary": True,
    "write_statistics": True,
    "row_group_size": 1 << 20,
}


def part_name(part: int) -> str:
    return f"part-{part:05d}.parquet"


def prepare_output(out: Path) -> None:
    """Make `out` ready: create it, or clear a previous generator run from it.

    A non-empty directory without our manifest is refused rather than overwritten: it may
    be someone's data.
    """
    if out.exists() and not out.is_dir():
        raise PowerhallError(f"output {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MANIFEST).is_file():
            raise PowerhallError(
                f"output {out} is not empty and holds no {MANIFEST} of a previous "
                "`powerhall generate`; choose an empty or new directory"
            )
        for name in [*(t.value for t in Table), TRUTH_DIR]:
            shutil.rmtree(out / name, ignore_errors=True)
        (out / MANIFEST).unlink()
    out.mkdir(parents=True, exist_ok=True)


def write_part(directory: Path, part: int, table: pa.Table) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        table.replace_schema_metadata(None), directory / part_name(part), **_PARQUET_OPTIONS
    )


def write_tables(
    out: Path, part: int, contract: Mapping[Table, pa.Table], truth: Mapping[str, pa.Table]
) -> None:
    """Write one chunk: contract tables under ``out/<table>``, truth under ``out/truth``."""
    for table, data in contract.items():
        write_part(out / table.value, part, data)
    for name, data in truth.items():
        write_part(out / TRUTH_DIR / name, part, data)


def write_manifest(out: Path, manifest: Mapping[str, Any]) -> None:
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False)
    (out / MANIFEST).write_text(text + "\n", encoding="utf-8")
