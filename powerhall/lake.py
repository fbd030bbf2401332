"""The lake: Hive-partitioned Parquet per contract table, and the one way to read it.

Only `powerhall ingest` writes the lake; every other part (profile builders, training, the
service) reads it through `read_table`, so that the physical layout (partition folders,
file names, union of files written at different times) is known in one place.

Layout: `<lake>/<table>/[<partition>=<value>/]*.parquet`; readings and service events are
partitioned by local month (`month=YYYY-MM`), bills by year (`year=YYYY`), customers and
suggestion outcomes are not partitioned. Times are UTC; dates and months are local.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import duckdb
import pandas as pd
import pyarrow as pa

from powerhall.contract import CONTRACT_SCHEMAS, TABLE_COLUMNS, Table
from powerhall.errors import ContractError

PARTITION_COLUMNS: Final[dict[Table, str]] = {
    Table.READINGS: "month",
    Table.SERVICE_EVENTS: "month",
    Table.BILLS: "year",
}
"""Hive partition column per partitioned table (never a contract column name)."""

PARTITION_TYPES: Final[dict[str, str]] = {"month": "VARCHAR", "year": "BIGINT"}
"""DuckDB types of the partition columns, fixed so that `month=2024-01` is never guessed."""

_PANDAS_TYPES: Final[dict[pa.DataType, Any]] = {
    pa.string(): pd.StringDtype("pyarrow"),
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def frame_from_arrow(table: pa.Table) -> pd.DataFrame:
    """The lake's pandas types: nullable ints and booleans, Arrow-backed text, dates as
    `datetime64[ms]`, timestamps as UTC `datetime64[us, UTC]`."""
    return table.to_pandas(date_as_object=False, types_mapper=_PANDAS_TYPES.get)


def table_glob(lake_dir: Path | str, table: Table) -> str:
    """The glob that matches every Parquet file of `table`, for DuckDB's `read_parquet`."""
    return str(Path(lake_dir) / Table(table).value / "**" / "*.parquet")


def read_parquet_sql(lake_dir: Path | str, table: Table) -> str:
    """A DuckDB table expression over the whole of `table`, partition columns included."""
    table = Table(table)
    glob = table_glob(lake_dir, table).replace("'", "''")
    hive_types = ""
    if table in PARTITION_COLUMNS:
        column = PARTITION_COLUMNS[table]
        hive_types = f", hive_types={{'{column}': '{PARTITION_TYPES[column]}'}}"
    return f"read_parquet('{glob}', hive_partitioning=true, union_by_name=true{hive_types})"


def has_data(lake_dir: Path | str, table: Table) -> bool:
    return any((Path(lake_dir) / Table(table).value).rglob("*.parquet"))


def read_table(
    lake_dir: Path | str,
    table: Table,
    columns: Sequence[str] | None = None,
    where: str | None = None,
    params: Sequence[object] | None = None,
) -> pd.DataFrame:
    """Rows of `table` as a DataFrame of the lake's types; empty (typed) if none exist yet.

    `where` is a trusted DuckDB SQL condition that may use the contract columns and the
    partition column (a filter on it skips whole folders), with `?` placeholders bound
    from `params`, e.g. `where="customer_id = ?", params=[cid]`.
    """
    table = Table(table)
    contract = TABLE_COLUMNS[table]
    selected = list(contract if columns is None else columns)
    unknown = [name for name in selected if name not in contract]
    if unknown:
        raise ContractError(f"{table.value} has no column(s) {', '.join(unknown)}")
    schema = pa.schema(CONTRACT_SCHEMAS[table].field(name) for name in selected)
    if not has_data(lake_dir, table):
        return frame_from_arrow(schema.empty_table())
    projection = ", ".join(f'"{name}"' for name in selected)
    sql = f"SELECT {projection} FROM {read_parquet_sql(lake_dir, table)}"
    if where:
        sql += f" WHERE {where}"
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        result = con.sql(sql, params=list(params or [])).to_arrow_table()
    return frame_from_arrow(result.cast(schema))
