"""Writing accepted rows into the lake: staged first, merged by key, published last.

An ingest run stages every file's accepted rows in a DuckDB database of its own (which
spills to `<lake>/.ingest-<id>/` beyond its memory limit) while it reads; nothing in the
lake changes until every input file has been read. `commit` then merges the staged rows
with the lake's rows of the same keys: a row replaces the earlier version of its key, and
the files of one run count in order, as if ingested one by one. Only partitions whose
content changes are rewritten, each to one `data.parquet` written beside the lake and
renamed into place (`os.replace`, atomic per file) once all of them are written; so
re-ingesting the same input leaves every byte as it was, and a failure before publishing
leaves the lake untouched. DuckDB merges; pyarrow writes the files (several times faster
than DuckDB's COPY on these wide float rows). One ingest run writes a lake at a time.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final, Self

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from powerhall.contract import CONTRACT_SCHEMAS, TABLE_COLUMNS, TABLE_KEYS, Table
from powerhall.lake import (
    PARTITION_COLUMNS,
    PARTITION_TYPES,
    has_data,
    read_parquet_sql,
)

logger = logging.getLogger(__name__)

DATA_FILE: Final = "data.parquet"
_BATCH_ROWS: Final = 128 * 1024
"""Rows per batch streamed from DuckDB to a partition file (at most one row group each)."""
_MEMORY_LIMIT: Final = "1GB"
"""DuckDB's working memory; staged rows beyond it spill to the run's folder, so a large
input costs disk, not the RAM shared with everything else on the machine."""
_SEQ: Final = "_seq"
_UNPARTITIONED: Final = "''"

_KEY_DERIVED_PARTITIONS: Final = frozenset({Table.READINGS, Table.BILLS})
"""Tables whose partition follows from the key, so a key's old version is in the same
partition and only the incoming partitions need reading; a service event's month may
change with a corrected `ts`, so its table is searched whole."""


@dataclass(frozen=True)
class LakeCounts:
    new: int
    unchanged: int
    replaced: int
    partitions_written: int


def _names(columns: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f'"{name}"' for name in columns)


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _file_list(paths: list[Path]) -> str:
    return "[" + ", ".join(_quoted(path) for path in paths) + "]"


class LakeWriter:
    """One ingest run's writes to the lake; use as a context manager, then `commit`."""

    def __init__(self, lake_dir: Path, *, timezone: str) -> None:
        self._lake = lake_dir
        self._timezone = timezone
        self._stage = lake_dir / f".ingest-{uuid.uuid4().hex}"
        self._files_staged: dict[Table, int] = {}
        self._outputs: list[tuple[Path | None, Path]] = []
        """(staged file, lake file) to publish; None: the partition is left with no rows."""
        self._con: duckdb.DuckDBPyConnection | None = None

    def __enter__(self) -> Self:
        self._stage.mkdir(parents=True)
        self._con = duckdb.connect()
        self._con.execute("SET TimeZone = 'UTC'")
        # In a Jupyter kernel without ipywidgets DuckDB starts with the bar off and refuses
        # any change to the setting, even to off: turn it off only where it is on.
        (progress_bar,) = self._con.execute(
            "SELECT current_setting('enable_progress_bar')"
        ).fetchone() or (False,)
        if progress_bar:
            self._con.execute("SET enable_progress_bar = false")
        self._con.execute(f"SET memory_limit = '{_MEMORY_LIMIT}'")
        self._con.execute(f"SET temp_directory = {_quoted(self._stage / 'spill')}")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._con is not None:
            self._con.close()
        shutil.rmtree(self._stage, ignore_errors=True)

    @property
    def _db(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise RuntimeError("LakeWriter is used outside its `with` block")
        return self._con

    def stage(self, table: Table, rows: pa.Table) -> None:
        """Keep accepted rows of one file until commit; later calls are newer versions."""
        seq = self._files_staged.get(table, 0)
        self._files_staged[table] = seq + 1
        cols = _names(TABLE_COLUMNS[table])
        # A 64-bit hash of each row decides unchanged vs replaced; the chance that a
        # changed row hashes equal is about 1e-19, and it would only skip a rewrite.
        select = (
            f"SELECT {cols}, {seq}::BIGINT AS {_SEQ}, {self._partition_sql(table)} "
            f"AS _part, hash({cols}) AS _hash FROM staged_rows"
        )
        self._db.register("staged_rows", rows)
        try:
            if seq == 0:
                self._db.execute(f"CREATE TEMP TABLE {_incoming(table)} AS {select}")
            else:
                self._db.execute(f"INSERT INTO {_incoming(table)} {select}")
        finally:
            self._db.unregister("staged_rows")

    def commit(self) -> dict[Table, LakeCounts]:
        """Merge every staged table, then publish the changed partitions."""
        counts = {table: self._merge(table) for table in self._files_staged}
        for staged, target in self._outputs:
            if staged is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, target)
            for other in target.parent.glob("*.parquet"):
                if other != target or staged is None:
                    other.unlink()  # its rows were merged into the new file
        return counts

    def _merge(self, table: Table) -> LakeCounts:
        db, incoming = self._db, _incoming(table)
        key = _names(TABLE_KEYS[table])
        db.execute(self._previous_sql(table))
        # Every version of an incoming key in order (-1: the lake's), with what the key
        # looked like before this run (the first version) and whether this one is final.
        db.execute(
            f"""CREATE OR REPLACE TEMP TABLE versions AS
            SELECT {key}, {_SEQ}, _part, _hash,
                   lag({_SEQ}) OVER w AS _prev_seq, lag(_hash) OVER w AS _prev_hash,
                   first_value({_SEQ}) OVER w AS _first_seq,
                   first_value(_hash) OVER w AS _first_hash,
                   first_value(_part) OVER w AS _first_part,
                   {_SEQ} = max({_SEQ}) OVER (PARTITION BY {key}) AS _final
            FROM (SELECT {key}, {_SEQ}, _part, _hash FROM previous
                  UNION ALL SELECT {key}, {_SEQ}, _part, _hash FROM {incoming})
            WINDOW w AS (PARTITION BY {key} ORDER BY {_SEQ})"""
        )
        new, unchanged, replaced, superseded = db.execute(
            f"""SELECT count(*) FILTER (_prev_seq IS NULL),
                       count(*) FILTER (_prev_seq IS NOT NULL AND _hash = _prev_hash),
                       count(*) FILTER (_prev_seq IS NOT NULL AND _hash <> _prev_hash),
                       count(*) FILTER (NOT _final)
                FROM versions WHERE {_SEQ} >= 0"""
        ).fetchone() or (0, 0, 0, 0)
        if superseded:  # a later file of this run holds a newer version of these keys
            db.execute(
                f"""DELETE FROM {incoming} WHERE ({key}, {_SEQ}) IN
                    (SELECT ({key}, {_SEQ}) FROM versions WHERE {_SEQ} >= 0 AND NOT _final)"""
            )
        db.execute(
            """CREATE OR REPLACE TEMP TABLE touched AS
            WITH changed AS (
                SELECT * FROM versions
                WHERE _final AND (_first_seq >= 0 OR _first_hash <> _hash
                                  OR _first_part IS DISTINCT FROM _part))
            SELECT DISTINCT p FROM (
                SELECT _part AS p FROM changed
                UNION ALL SELECT _first_part FROM changed WHERE _first_seq = -1)"""
        )
        written = self._write_touched(table)
        for name in ("previous", "versions", "touched", incoming):
            db.execute(f"DROP TABLE IF EXISTS {name}")
        return LakeCounts(int(new), int(unchanged), int(replaced), written)

    def _partition_sql(self, table: Table) -> str:
        """The partition of a row: local month of a reading or event, year of a bill."""
        if table is Table.READINGS:
            return "strftime(date, '%Y-%m')"
        if table is Table.SERVICE_EVENTS:
            zone = self._timezone.replace("'", "''")
            return f"strftime(timezone('{zone}', ts), '%Y-%m')"
        if table is Table.BILLS:
            return "CAST(left(period, 4) AS BIGINT)"
        return _UNPARTITIONED

    def _partition_dir(self, table: Table, value: object) -> Path:
        folder = self._lake / table.value
        if table in PARTITION_COLUMNS:
            folder = folder / f"{PARTITION_COLUMNS[table]}={value}"
        return folder

    def _previous_sql(self, table: Table) -> str:
        """The lake's current version (hash and partition) of every incoming key."""
        cols, key, incoming = (
            _names(TABLE_COLUMNS[table]),
            _names(TABLE_KEYS[table]),
            _incoming(table),
        )
        empty = (
            f"CREATE OR REPLACE TEMP TABLE previous AS "
            f"SELECT {key}, {_SEQ}, _part, _hash FROM {incoming} LIMIT 0"
        )
        if table in _KEY_DERIVED_PARTITIONS:
            values = self._db.execute(f"SELECT DISTINCT _part FROM {incoming}").fetchall()
            files = [
                path
                for (value,) in values
                for path in sorted(self._partition_dir(table, value).glob("*.parquet"))
            ]
            if not files:
                return empty
            source = self._read_files(table, files)
        elif has_data(self._lake, table):
            source = read_parquet_sql(self._lake, table)
        else:
            return empty
        part = PARTITION_COLUMNS.get(table, _UNPARTITIONED)
        return (
            f"CREATE OR REPLACE TEMP TABLE previous AS "
            f"SELECT {key}, -1::BIGINT AS {_SEQ}, {part} AS _part, hash({cols}) AS _hash "
            f"FROM {source} SEMI JOIN (SELECT DISTINCT {key} FROM {incoming}) USING ({key})"
        )

    def _write_touched(self, table: Table) -> int:
        """Write the new content of every touched partition: its kept rows and the final
        versions that belong to it, sorted by key, streamed one partition after another."""
        cols, key, incoming = (
            _names(TABLE_COLUMNS[table]),
            _names(TABLE_KEYS[table]),
            _incoming(table),
        )
        touched = [value for (value,) in self._db.execute("SELECT p FROM touched").fetchall()]
        existing = [
            path
            for value in touched
            for path in sorted(self._partition_dir(table, value).glob("*.parquet"))
        ]
        kept = ""
        if existing:
            part = PARTITION_COLUMNS.get(table, _UNPARTITIONED)
            source = self._read_files(table, existing)
            kept = (
                f"UNION ALL SELECT {cols}, {part} AS _part FROM {source} "
                f"ANTI JOIN {incoming} USING ({key})"
            )
        reader = self._db.sql(
            f"""SELECT {cols}, _part FROM (
                    SELECT {cols}, _part FROM {incoming} WHERE _part IN (SELECT p FROM touched)
                    {kept})
                ORDER BY _part, {key}"""
        ).to_arrow_reader(_BATCH_ROWS)
        files = _PartitionFiles(CONTRACT_SCHEMAS[table])
        written = set()
        for batch in reader:
            values = np.asarray(batch.column("_part").to_numpy(zero_copy_only=False))
            starts = [0, *(np.flatnonzero(values[1:] != values[:-1]) + 1).tolist()]
            for start, stop in zip(starts, [*starts[1:], len(values)], strict=True):
                target = self._partition_dir(table, values[start]) / DATA_FILE
                if target != files.target:
                    self._outputs.append((files.open(target, self._stage), target))
                    written.add(values[start])
                files.write(batch.slice(start, stop - start).drop_columns(["_part"]))
        files.close()
        for value in set(touched) - written:  # every row of it moved to another partition
            self._outputs.append((None, self._partition_dir(table, value) / DATA_FILE))
        return len(touched)

    def _read_files(self, table: Table, files: list[Path]) -> str:
        if table not in PARTITION_COLUMNS:
            return f"read_parquet({_file_list(files)}, union_by_name=true)"
        column = PARTITION_COLUMNS[table]
        return (
            f"read_parquet({_file_list(files)}, hive_partitioning=true, union_by_name=true, "
            f"hive_types={{'{column}': '{PARTITION_TYPES[column]}'}})"
        )


class _PartitionFiles:
    """Writes sorted rows to one partition file after another (one open at a time)."""

    def __init__(self, schema: pa.Schema) -> None:
        self._schema = schema
        self._dictionary = [f.name for f in schema if pa.types.is_string(f.type)]
        self._writer: pq.ParquetWriter | None = None
        self.target: Path | None = None

    def open(self, target: Path, stage: Path) -> Path:
        self.close()
        staged = stage / "out" / f"{uuid.uuid4().hex}.parquet"
        staged.parent.mkdir(parents=True, exist_ok=True)
        # Dictionary pages for text only: on measured kWh they cost 4x the write time.
        self._writer = pq.ParquetWriter(staged, self._schema, use_dictionary=self._dictionary)
        self.target = target
        return staged

    def write(self, rows: pa.RecordBatch) -> None:
        if self._writer is None:
            raise RuntimeError("no partition file is open")
        self._writer.write_table(pa.Table.from_batches([rows]).cast(self._schema))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._writer = None
        self.target = None


def _incoming(table: Table) -> str:
    return f"incoming_{table.value}"
