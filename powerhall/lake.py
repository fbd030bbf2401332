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

from powerhall.contract import (
    BILL_COLUMNS,
    CUSTOMER_COLUMNS,
    KWH_COLUMNS,
    READING_COLUMNS,
    SERVICE_EVENT_COLUMNS,
    SUGGESTION_OUTCOME_COLUMNS,
    TABLE_COLUMNS,
    Table,
)
from powerhall.errors import ContractError

TIMESTAMP: Final = pa.timestamp("us", tz="UTC")

_NON_NULL: Final[dict[Table, frozenset[str]]] = {
    Table.CUSTOMERS: frozenset(
        {
            "customer_id",
            "segment",
            "region",
            "hall_id",
            "tariff_id",
            "has_app",
            "push_consent",
            "created_at",
        }
    ),
    Table.READINGS: frozenset({"customer_id", "date", "quality"}),
    Table.BILLS: frozenset({"customer_id", "period", "kwh", "amount_cny", "tariff_id", "due_date"}),
    Table.SERVICE_EVENTS: frozenset({"event_id", "customer_id", "ts", "kind", "channel"}),
    Table.SUGGESTION_OUTCOMES: frozenset(
        {"suggestion_id", "customer_id", "kind", "item_id", "channel", "shown_at", "outcome"}
    ),
}

_TYPES: Final[dict[Table, dict[str, pa.DataType]]] = {
    Table.CUSTOMERS: {
        "contract_capacity_kva": pa.float64(),
        "has_app": pa.bool_(),
        "push_consent": pa.bool_(),
        "created_at": TIMESTAMP,
        "closed_at": TIMESTAMP,
    },
    Table.READINGS: {
        "date": pa.date32(),
        **dict.fromkeys(KWH_COLUMNS, pa.float64()),
        "max_demand_kw": pa.float64(),
    },
    Table.BILLS: {
        "kwh": pa.float64(),
        "amount_cny": pa.float64(),
        "due_date": pa.date32(),
        "paid_at": TIMESTAMP,
    },
    Table.SERVICE_EVENTS: {
        "ts": TIMESTAMP,
        "wait_minutes": pa.float64(),
        "satisfaction": pa.int64(),
    },
    Table.SUGGESTION_OUTCOMES: {"shown_at": TIMESTAMP, "outcome_at": TIMESTAMP},
}
"""Non-text columns; every other contract column is text (ids are text, never numbers)."""


def _schema(table: Table, columns: Sequence[str]) -> pa.Schema:
    types = _TYPES[table]
    return pa.schema(
        pa.field(name, types.get(name, pa.string()), nullable=name not in _NON_NULL[table])
        for name in columns
    )


LAKE_SCHEMAS: Final[dict[Table, pa.Schema]] = {
    Table.CUSTOMERS: _schema(Table.CUSTOMERS, CUSTOMER_COLUMNS),
    Table.READINGS: _schema(Table.READINGS, READING_COLUMNS),
    Table.BILLS: _schema(Table.BILLS, BILL_COLUMNS),
    Table.SERVICE_EVENTS: _schema(Table.SERVICE_EVENTS, SERVICE_EVENT_COLUMNS),
    Table.SUGGESTION_OUTCOMES: _schema(Table.SUGGESTION_OUTCOMES, SUGGESTION_OUTCOME_COLUMNS),
}
"""Physical type of every contract column; a field's `nullable` says whether it may be null."""

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
    schema = pa.schema(LAKE_SCHEMAS[table].field(name) for name in selected)
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
