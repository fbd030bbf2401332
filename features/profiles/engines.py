"""SQL engines that run the profile build: DuckDB (embedded default) and Spark (scale).

Both run the same statements from `features.profiles.sql`. The catalogue is written in
Spark SQL's function vocabulary; DuckDB gets macros for the four functions it spells
differently, which is the whole of the dialect difference.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa

from powerhall.contract import CONTRACT_SCHEMAS, Table
from powerhall.errors import ContractError, NotFoundError
from powerhall.lake import has_data, read_parquet_sql

logger = logging.getLogger(__name__)

REQUIRED_TABLES = (Table.CUSTOMERS, Table.READINGS)

DUCKDB_MACROS = (
    "CREATE OR REPLACE TEMP MACRO unix_date(d) AS "
    "CAST(CAST(d AS DATE) - DATE '1970-01-01' AS INTEGER)",
    "CREATE OR REPLACE TEMP MACRO from_utc_timestamp(ts, tz) AS "
    "timezone(tz, CAST(ts AS TIMESTAMPTZ))",
    "CREATE OR REPLACE TEMP MACRO unix_seconds(ts) AS "
    "CAST(FLOOR(epoch(CAST(ts AS TIMESTAMPTZ))) AS BIGINT)",
    "CREATE OR REPLACE TEMP MACRO add_months(d, n) AS CAST(d + to_months(n) AS DATE)",
)


@dataclass(frozen=True)
class CustomerRange:
    """Customers with `low <= customer_id < high` (an open end where None): one bucket of
    a build. Every window of a profile stays within one customer, so buckets build alone."""

    low: str | None = None
    high: str | None = None


class Engine(Protocol):
    """What the build needs from an SQL engine."""

    def register_lake(self, lake_dir: Path, customers: CustomerRange = CustomerRange()) -> None:
        """Expose the lake's tables by name, only the rows of `customers`."""
        ...

    def register_frame(self, name: str, frame: pd.DataFrame | pa.Table) -> None: ...

    def query(self, sql: str) -> pd.DataFrame: ...

    def create_table(self, name: str, sql: str) -> None: ...

    def write_parquet(self, sql: str, target: Path) -> int:
        """Write the rows of `sql` to the one Parquet file `target`; return their count."""
        ...

    def close(self) -> None: ...


def _present_tables(lake_dir: Path) -> list[Table]:
    """Tables with data; optional ones may be missing in a new deployment (read as empty)."""
    missing = [t for t in REQUIRED_TABLES if not has_data(lake_dir, t)]
    if missing:
        names = ", ".join(str(lake_dir / t) for t in missing)
        raise NotFoundError(f"no Parquet files under {names}: run `powerhall ingest` first")
    return [t for t in Table if has_data(lake_dir, t)]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _range_sql(customers: CustomerRange) -> str:
    bounds = []
    if customers.low is not None:
        bounds.append(f"customer_id >= {_literal(customers.low)}")
    if customers.high is not None:
        bounds.append(f"customer_id < {_literal(customers.high)}")
    return f" WHERE {' AND '.join(bounds)}" if bounds else ""


class DuckDBEngine:
    """DuckDB over the Parquet lake; intermediate tables spill to a temp directory."""

    def __init__(
        self,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        max_spill: str | None = None,
    ) -> None:
        """`max_spill` bounds the spill files (e.g. "40GB"): past it the build fails with
        DuckDB's out-of-memory error instead of filling a shared disk (DuckDB's default
        is 90 % of the free space)."""
        import duckdb

        self._tmp = Path(tempfile.mkdtemp(prefix="powerhall-duckdb-"))
        config: dict[str, Any] = {"temp_directory": str(self._tmp)}
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        if max_spill:
            config["max_temp_directory_size"] = max_spill
        self._con = duckdb.connect(config=config)
        self._con.execute("SET TimeZone = 'UTC'")
        for macro in DUCKDB_MACROS:
            self._con.execute(macro)

    def register_lake(self, lake_dir: Path, customers: CustomerRange = CustomerRange()) -> None:
        present = _present_tables(lake_dir)
        # The range filter reaches the Parquet scan: row groups of other customers (the
        # ingest writes each partition sorted by customer) are skipped, not read.
        where = _range_sql(customers)
        for table in Table:
            if table in present:
                self._con.execute(
                    f"CREATE OR REPLACE TEMP VIEW {table} AS "
                    f"SELECT * FROM {read_parquet_sql(lake_dir, table)}{where}"
                )
            else:
                self.register_frame(str(table), CONTRACT_SCHEMAS[table].empty_table())

    def register_frame(self, name: str, frame: pd.DataFrame | pa.Table) -> None:
        self._con.register(f"{name}_frame", frame)
        self._con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_frame")
        self._con.unregister(f"{name}_frame")

    def query(self, sql: str) -> pd.DataFrame:
        return self._con.execute(sql).df()

    def create_table(self, name: str, sql: str) -> None:
        self._con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")

    def write_parquet(self, sql: str, target: Path) -> int:
        self._con.execute(f"COPY ({sql}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
        (rows,) = self._con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()
        return int(rows)

    def close(self) -> None:
        self._con.close()
        shutil.rmtree(self._tmp, ignore_errors=True)


class SparkEngine:
    """PySpark, local mode by default; pass `master` to run on a cluster.

    Intermediate tables are checkpointed as Parquet (not cached) so that a build larger
    than memory degrades to disk I/O rather than failing.
    """

    def __init__(
        self,
        *,
        master: str = "local[2]",
        driver_memory: str = "2g",
        shuffle_partitions: int = 8,
        staging_dir: Path | None = None,
    ) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:  # an optional extra
            raise ContractError(
                "the spark engine needs pyspark: install the `spark` extra"
            ) from exc
        self._owned_staging = staging_dir is None
        self._staging = staging_dir or Path(tempfile.mkdtemp(prefix="powerhall-spark-"))
        self._spark = (
            SparkSession.builder.master(master)
            .appName("powerhall-profiles")
            .config("spark.driver.memory", driver_memory)
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
            .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
            .config("spark.ui.enabled", "false")
            .getOrCreate()
        )
        self._spark.sparkContext.setLogLevel("ERROR")

    def register_lake(self, lake_dir: Path, customers: CustomerRange = CustomerRange()) -> None:
        from pyspark.sql.functions import col
        from pyspark.sql.pandas.types import from_arrow_schema

        present = _present_tables(lake_dir)
        for table in Table:
            if table in present:
                # The contract schema, not one inferred and merged from every file's footer:
                # faster, and a column missing from older files reads as null.
                schema = from_arrow_schema(CONTRACT_SCHEMAS[table])
                frame = self._spark.read.schema(schema).parquet(str(lake_dir / table))
                if customers.low is not None:
                    frame = frame.filter(col("customer_id") >= customers.low)
                if customers.high is not None:
                    frame = frame.filter(col("customer_id") < customers.high)
                frame.createOrReplaceTempView(str(table))
            else:
                self.register_frame(str(table), CONTRACT_SCHEMAS[table].empty_table())

    def register_frame(self, name: str, frame: pd.DataFrame | pa.Table) -> None:
        self._spark.createDataFrame(frame).createOrReplaceTempView(name)

    def query(self, sql: str) -> pd.DataFrame:
        return self._spark.sql(sql).toPandas()

    def create_table(self, name: str, sql: str) -> None:
        path = self._staging / name
        self._spark.sql(sql).write.mode("overwrite").parquet(str(path))
        self._spark.read.parquet(str(path)).createOrReplaceTempView(name)

    def write_parquet(self, sql: str, target: Path) -> int:
        # Spark writes a folder of part files; one partition makes it one file to move.
        folder = target.with_name(f".{target.name}.spark")
        self._spark.sql(sql).coalesce(1).write.mode("overwrite").parquet(str(folder))
        (part,) = folder.glob("part-*.parquet")
        part.rename(target)
        shutil.rmtree(folder)
        return int(self._spark.read.parquet(str(target)).count())

    def close(self) -> None:
        self._spark.stop()
        if self._owned_staging:
            shutil.rmtree(self._staging, ignore_errors=True)
