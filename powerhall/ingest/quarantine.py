"""The quarantine: rejected rows, as written in their file, with the reasons.

`<quarantine>/<table>/<file stem>-<content hash>.parquet` holds one file's rejected rows:
its original columns as text, then `reason` (all reasons of the row joined by `; `),
`source_file` (path relative to the input folder) and `source_row` (1-based data row:
the first row after a CSV header is 1). The name follows from the file's bytes, so
ingesting the same file again rewrites the same quarantine file with the same bytes, and
removes it when the file no longer has bad rows (say, once its customers are known).
Like the lake, nothing is written before every input file has been read.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from powerhall.contract import Table

REASON: Final = "reason"
SOURCE_FILE: Final = "source_file"
SOURCE_ROW: Final = "source_row"


class Quarantine:
    """One ingest run's quarantine files, staged until `commit`."""

    def __init__(self, quarantine_dir: Path) -> None:
        self._root = quarantine_dir
        self._run = uuid.uuid4().hex
        self._pending: list[tuple[Path, pa.Table | None]] = []

    def put(
        self,
        table: Table,
        *,
        file_stem: str,
        file_hash: str,
        source_file: str,
        rows: pa.Table,
        positions: np.ndarray,
        reasons: list[str],
    ) -> None:
        """Record the bad `rows` (text columns) of a file, found at 0-based `positions`."""
        target = self._root / table.value / f"{file_stem}-{file_hash}.parquet"
        if rows.num_rows == 0:
            self._pending.append((target, None))
            return
        rows = (
            rows.append_column(REASON, pa.array(reasons, pa.string()))
            .append_column(SOURCE_FILE, pa.array([source_file] * rows.num_rows, pa.string()))
            .append_column(SOURCE_ROW, pa.array(positions + 1, pa.int64()))
        )
        self._pending.append((target, rows))

    def commit(self) -> list[Path]:
        """Write (or remove) every recorded file atomically; the files that now exist."""
        written = []
        for target, rows in self._pending:
            if rows is None:
                target.unlink(missing_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.{self._run}")
            pq.write_table(rows, partial)
            os.replace(partial, target)
            written.append(target)
        return written
