"""Pandera schemas of the five contract tables, built from `powerhall.contract` constants.

They validate frames already converted to the lake's types (see `coerce`): dtypes,
required values, ranges, enumerations and rules within one row. Every check carries the
reason a person reads in the quarantine as its `error`, with `{column}` and `{value}`
filled in from pandera's failure cases.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Final

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow

from powerhall.contract import (
    CONTRACT_SCHEMAS,
    KWH_COLUMNS,
    TABLE_COLUMNS,
    Channel,
    EventKind,
    Outcome,
    ReadingQuality,
    Region,
    Segment,
    SuggestionKind,
    Table,
)
from powerhall.ingest.failures import combine, failures_at_rows, no_failures

OPTIONAL_COLUMNS: Final[dict[Table, frozenset[str]]] = {
    Table.CUSTOMERS: frozenset({"account_no", "phone", "closed_at"}),
    Table.READINGS: frozenset({"max_demand_kw"}),
    Table.BILLS: frozenset({"paid_at"}),
    Table.SERVICE_EVENTS: frozenset({"wait_minutes", "satisfaction", "text"}),
    Table.SUGGESTION_OUTCOMES: frozenset({"outcome_at"}),
}
"""Columns an input file may leave out; they are then null in the lake."""

MISSING: Final = "{column} is missing"
_ENUMS: Final[dict[Table, dict[str, type[StrEnum]]]] = {
    Table.CUSTOMERS: {"segment": Segment, "region": Region},
    Table.READINGS: {"quality": ReadingQuality},
    Table.SERVICE_EVENTS: {"kind": EventKind, "channel": Channel},
    Table.SUGGESTION_OUTCOMES: {
        "kind": SuggestionKind,
        "channel": Channel,
        "outcome": Outcome,
    },
}
_NON_NEGATIVE: Final[dict[Table, tuple[str, ...]]] = {
    Table.CUSTOMERS: ("contract_capacity_kva",),
    Table.READINGS: ("max_demand_kw",),
    Table.BILLS: ("kwh",),
    Table.SERVICE_EVENTS: ("wait_minutes",),
}
_C_AND_I: Final = [Segment.COMMERCIAL.value, Segment.INDUSTRIAL.value]


def _finite(series: pd.Series) -> pd.Series:
    return pd.Series(np.isfinite(series.to_numpy(dtype=float, na_value=0.0)), index=series.index)


def _column_checks(table: Table, name: str) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if name in _ENUMS.get(table, {}):
        values = [member.value for member in _ENUMS[table][name]]
        checks.append(pa.Check.isin(values, error="unknown {column} {value!r}"))
    if table is Table.READINGS and name in KWH_COLUMNS:
        # Vectorised comparisons: 24 of them over 3.65 M rows take about 2 s in pandera,
        # well inside the ingest budget, so the kWh range stays declared here.
        checks.append(pa.Check.ge(0, error="negative kwh in {column}"))
    elif name in _NON_NEGATIVE.get(table, ()):
        checks.append(pa.Check.ge(0, error="negative {column}"))
    if CONTRACT_SCHEMAS[table].field(name).type == pyarrow.float64():
        checks.append(pa.Check(_finite, error="{column} is not finite"))
    if table is Table.SERVICE_EVENTS and name == "satisfaction":
        checks.append(pa.Check.in_range(1, 5, error="satisfaction out of 1..5"))
    if table is Table.BILLS and name == "period":
        checks.append(pa.Check.str_matches(r"^\d{4}-(0[1-9]|1[0-2])$", error="period not YYYY-MM"))
    return checks


def _row_checks(table: Table) -> list[pa.Check]:
    """Rules within one row; each returns True where the row keeps the rule."""
    if table is Table.CUSTOMERS:
        return [
            pa.Check(
                lambda df: ~(df["closed_at"] < df["created_at"]).fillna(False),
                error="closed_at before created_at",
            ),
            pa.Check(
                lambda df: ~(df["push_consent"] & ~df["has_app"]).fillna(False),
                error="push_consent without has_app",
            ),
            pa.Check(
                lambda df: (
                    ~(
                        df["segment"].isin(_C_AND_I)
                        & ~(df["contract_capacity_kva"] > 0).fillna(False)
                    ).fillna(False)
                ),
                error="commercial or industrial without contract_capacity_kva > 0",
            ),
        ]
    if table is Table.SERVICE_EVENTS:
        return [
            pa.Check(
                lambda df: (
                    ~(
                        (df["kind"] == EventKind.HALL_VISIT.value) & df["wait_minutes"].isna()
                    ).fillna(False)
                ),
                error="hall_visit without wait_minutes",
            )
        ]
    if table is Table.SUGGESTION_OUTCOMES:
        return [
            pa.Check(
                lambda df: ~(df["outcome_at"] < df["shown_at"]).fillna(False),
                error="outcome_at before shown_at",
            )
        ]
    return []


def _pandas_dtype(arrow_type: pyarrow.DataType) -> object:
    if arrow_type == pyarrow.date32():
        return "datetime64[ms]"
    if pyarrow.types.is_timestamp(arrow_type):
        return pd.DatetimeTZDtype(unit="us", tz="UTC")
    return {
        pyarrow.string(): pd.StringDtype("pyarrow"),
        pyarrow.float64(): "float64",
        pyarrow.int64(): pd.Int64Dtype(),
        pyarrow.bool_(): pd.BooleanDtype(),
    }[arrow_type]


@cache
def schema_for(table: Table) -> pa.DataFrameSchema:
    """The contract of `table` as a pandera schema over the lake's pandas types."""
    table = Table(table)
    lake = CONTRACT_SCHEMAS[table]
    columns = {
        name: pa.Column(
            _pandas_dtype(lake.field(name).type),
            checks=_column_checks(table, name),
            nullable=lake.field(name).nullable,
        )
        for name in TABLE_COLUMNS[table]
    }
    return pa.DataFrameSchema(columns, checks=_row_checks(table), strict=True, ordered=True)


def schema_failures(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """Failures of `frame` against the schema of `table`, one per (row, reason)."""
    try:
        schema_for(table).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return _failures_from_cases(exc.failure_cases)
    return no_failures()


def _failures_from_cases(cases: pd.DataFrame) -> pd.DataFrame:
    if cases["index"].isna().any():
        # A failure without a row (a dtype or a missing column) means the conversion to
        # the lake's types is wrong, not the data: that is a bug, never a quarantine.
        raise RuntimeError(f"schema failures without a row:\n{cases[cases['index'].isna()]}")
    row_wide = cases["schema_context"] == "DataFrameSchema"
    # A row-wide check is reported once per column of the failing row: keep one.
    rules = cases[row_wide].drop_duplicates(["check", "index"])
    parts = [
        failures_at_rows(_positions(rows), str(check)) for check, rows in rules.groupby("check")
    ]
    for (column, check), group in cases[~row_wide].groupby(["column", "check"], sort=False):
        template = MISSING if check == "not_nullable" else str(check)
        if "{value" in template:
            for value, by_value in group.groupby("failure_case", sort=False):
                reason = template.format(column=column, value=value)
                parts.append(failures_at_rows(_positions(by_value), reason, column))
        else:
            parts.append(
                failures_at_rows(_positions(group), template.format(column=column), column)
            )
    return combine(parts)


def _positions(cases: pd.DataFrame) -> np.ndarray:
    return cases["index"].astype(np.int64).to_numpy()
