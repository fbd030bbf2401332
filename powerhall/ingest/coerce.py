"""Converting a file's columns to the lake's types, value by value.

A value that does not convert (a kWh that is not a number, a date that does not parse)
becomes null and a failure of its row, so that one bad value quarantines one row and never
the file. Clean columns take Arrow's vectorised casts; only a column holding a bad value
falls back to the slower per-value path that says which rows are bad.

Time rules of the contract: a timestamp with an offset is converted to UTC; a timestamp
without one (as utilities' CSV exports write them) is local time of `timezone`
(Asia/Shanghai by default) and converted to UTC; dates are local dates as written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from powerhall.contract import CONTRACT_SCHEMAS, UTC_TIMESTAMP, Table
from powerhall.errors import ContractError
from powerhall.ingest.failures import combine, failures_at

Column = pa.Array | pa.ChunkedArray
Problems = list[tuple[np.ndarray, str]]
"""(rows that failed, reason template with `{column}`) pairs of one column."""

_TRUE: Final = ("true", "t", "yes", "y", "1", "是")
_FALSE: Final = ("false", "f", "no", "n", "0", "否")
_OFFSET_PATTERN: Final = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$"
NOT_A_NUMBER: Final = "{column} is not a number"
NOT_WHOLE: Final = "{column} is not a whole number"
NOT_BOOLEAN: Final = "{column} is not true or false"
DOES_NOT_PARSE: Final = "{column} does not parse"
OUT_OF_RANGE: Final = "{column} is out of range"
DATE_FORMAT: Final = "%Y-%m-%d"


class _UnsupportedTypeError(Exception):
    """The column's physical type cannot hold the contract type at all (a file problem)."""


def coerce(
    raw: pa.Table, table: Table, *, source: str, timezone: str
) -> tuple[pa.Table, pd.DataFrame]:
    """The rows of `raw` in the lake schema of `table`, and the failures of conversion.

    Contract columns absent from the file (the optional ones) are all null.
    """
    schema = CONTRACT_SCHEMAS[table]
    arrays: list[Column] = []
    failures = []
    for field in schema:
        if field.name not in raw.column_names:
            arrays.append(pa.nulls(raw.num_rows, field.type))
            continue
        column = _plain(raw.column(field.name))
        try:
            array, problems = _converter(field.type)(column, timezone)
        except _UnsupportedTypeError as exc:
            raise ContractError(
                f"{source}: column {field.name} holds {column.type}, which cannot be {exc}"
            ) from exc
        arrays.append(array)
        failures.extend(
            failures_at(rows, reason.format(column=field.name), field.name)
            for rows, reason in problems
            if rows.any()
        )
    return pa.Table.from_arrays(arrays, schema=schema), combine(failures)


def as_text(raw: pa.Table) -> pa.Table:
    """Every column as text, for the quarantine: a bad row is kept as it was written.

    Take the bad rows first: casting a whole big file to text is slow and not needed."""
    return pa.Table.from_arrays(
        [
            pa.nulls(len(col), pa.string())
            if pa.types.is_null(col.type)
            else pc.cast(_plain(col), pa.string())
            for col in raw.columns
        ],
        names=raw.column_names,
    )


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    if pa.types.is_large_string(column.type) or pa.types.is_string_view(column.type):
        return column.cast(pa.string())
    return column


def _converter(target: pa.DataType) -> Callable[[pa.ChunkedArray, str], tuple[Column, Problems]]:
    if pa.types.is_timestamp(target):
        return _to_timestamp
    return {
        pa.string(): _to_string,
        pa.float64(): _to_float,
        pa.int64(): _to_int,
        pa.bool_(): _to_bool,
        pa.date32(): _to_date,
    }[target]


def _failed(before: Column, after: Column) -> np.ndarray:
    """Rows that had a value and lost it in conversion."""
    lost = pc.and_(pc.is_valid(before), pc.is_null(after))
    return np.asarray(lost.to_numpy(zero_copy_only=False), dtype=bool)


def _to_string(column: pa.ChunkedArray, _tz: str) -> tuple[Column, Problems]:
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), pa.string()), []
    if pa.types.is_string(column.type) or pa.types.is_integer(column.type):
        return column.cast(pa.string()), []
    raise _UnsupportedTypeError("text (ids and codes are text)")


def _numbers(column: pa.ChunkedArray) -> tuple[Column, Problems]:
    """Float64 values; NaN becomes null, since the contract's missing value is null."""
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), pa.float64()), []
    if (
        pa.types.is_integer(column.type)
        or pa.types.is_floating(column.type)
        or pa.types.is_decimal(column.type)
    ):
        # Unsafe: an integer beyond 2**53 or a decimal loses digits in float64, which is
        # the contract's type; a safe cast would refuse the whole column for it.
        values, problems = column.cast(pa.float64(), safe=False), []
    elif pa.types.is_string(column.type):
        try:
            values, problems = column.cast(pa.float64()), []
        except pa.ArrowInvalid:
            text = column.to_pandas()
            parsed = pd.to_numeric(text, errors="coerce")
            values = pa.array(parsed.to_numpy(dtype=float), type=pa.float64(), from_pandas=True)
            problems = [(_failed(column, values), NOT_A_NUMBER)]
    else:
        raise _UnsupportedTypeError("a number")
    return pc.if_else(pc.is_nan(values), pa.scalar(None, pa.float64()), values), problems


def _to_float(column: pa.ChunkedArray, _tz: str) -> tuple[Column, Problems]:
    return _numbers(column)


_INT64_LIMIT: Final = 2.0**63
"""Whole floats in [-2**63, 2**63) fit in int64; 2**63 itself is exactly representable."""


def _to_int(column: pa.ChunkedArray, _tz: str) -> tuple[Column, Problems]:
    if pa.types.is_integer(column.type) and column.type != pa.uint64():
        return column.cast(pa.int64()), []
    values, problems = _numbers(column)
    whole = pc.equal(pc.floor(values), values)
    fractional = _true_at(pc.invert(whole))
    fits = pc.and_(pc.greater_equal(values, -_INT64_LIMIT), pc.less(values, _INT64_LIMIT))
    too_big = _true_at(pc.and_(whole, pc.invert(fits)))
    kept = pc.if_else(pc.and_(whole, fits), values, pa.scalar(None, pa.float64()))
    return kept.cast(pa.int64()), [*problems, (fractional, NOT_WHOLE), (too_big, OUT_OF_RANGE)]


def _true_at(mask: Column) -> np.ndarray:
    """Rows where `mask` is true (null counts as false)."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _to_bool(column: pa.ChunkedArray, _tz: str) -> tuple[Column, Problems]:
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), pa.bool_()), []
    if pa.types.is_boolean(column.type):
        return column, []
    if pa.types.is_integer(column.type):
        column = column.cast(pa.string())
    if not pa.types.is_string(column.type):
        raise _UnsupportedTypeError("true or false")
    words = pc.utf8_lower(pc.utf8_trim_whitespace(column))
    is_true = pc.is_in(words, pa.array(_TRUE))
    known = pc.or_(is_true, pc.is_in(words, pa.array(_FALSE)))
    values = pc.if_else(known, is_true, pa.scalar(None, pa.bool_()))
    return values, [(_failed(column, values), NOT_BOOLEAN)]


def _to_date(column: pa.ChunkedArray, timezone: str) -> tuple[Column, Problems]:
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), pa.date32()), []
    if pa.types.is_date(column.type):
        return column.cast(pa.date32()), []
    if pa.types.is_timestamp(column.type):
        return _local_dates(column, timezone)
    if not pa.types.is_string(column.type):
        raise _UnsupportedTypeError("a date")
    try:
        return column.cast(pa.date32()), []  # strict ISO dates, vectorised
    except pa.ArrowInvalid:
        pass
    parsed = pc.strptime(column, format=DATE_FORMAT, unit="s", error_is_null=True)
    # strptime rolls impossible days over (2024-02-30 becomes 2024-03-01): a date is
    # valid only if it reads back as written.
    exact = pc.equal(pc.strftime(parsed, format=DATE_FORMAT), column)
    values = pc.if_else(exact, parsed, pa.scalar(None, parsed.type)).cast(pa.date32())
    return values, [(_failed(column, values), DOES_NOT_PARSE)]


_DAY_US: Final = 86_400_000_000


def _local_dates(column: pa.ChunkedArray, timezone: str) -> tuple[Column, Problems]:
    """The local date of each timestamp (a naive one is local already), in Arrow: a time
    within a day of what microseconds hold has no date that can be trusted (the shift to
    local time would overflow), so it is out of range like one beyond."""
    micros, too_far = _in_microseconds(column)
    edge = np.iinfo(np.int64).max - _DAY_US
    micros, near_edge = _null_beyond(micros, micros.cast(pa.int64()), edge)
    if micros.type.tz is not None:
        micros = pc.local_timestamp(micros.cast(pa.timestamp("us", tz=timezone)))
    return micros.cast(pa.date32(), safe=False), [(too_far | near_edge, OUT_OF_RANGE)]


def _to_timestamp(column: pa.ChunkedArray, timezone: str) -> tuple[Column, Problems]:
    if pa.types.is_null(column.type):
        return pa.nulls(len(column), UTC_TIMESTAMP), []
    if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
        micros, too_far = _in_microseconds(column)
        problems = [(too_far, OUT_OF_RANGE)]
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            return micros.cast(UTC_TIMESTAMP), problems
        utc = _local_to_utc(pd.Series(micros.to_pandas()), timezone)
    elif pa.types.is_string(column.type):
        utc, problems = _parse_timestamps(pd.Series(column.to_pandas(), dtype=object), timezone), []
    else:
        raise _UnsupportedTypeError("a timestamp")
    values = pa.array(utc, type=UTC_TIMESTAMP, from_pandas=True)
    return values, [*problems, (_failed(column, values), DOES_NOT_PARSE)]


_PER_MICROSECOND: Final = {"s": 1_000_000, "ms": 1_000}


def _in_microseconds(column: pa.ChunkedArray) -> tuple[Column, np.ndarray]:
    """A timestamp or date column as microseconds (its zone kept), and the rows whose
    value lies beyond the ±292,000 years that microseconds hold: those become null, where
    an unsafe cast would wrap them into garbage times. Nanoseconds are truncated."""
    target = pa.timestamp("us", tz=getattr(column.type, "tz", None))
    if pa.types.is_date(column.type):  # Parquet stores every date as date32 days
        counts, factor = column.cast(pa.date32()).cast(pa.int32()).cast(pa.int64()), _DAY_US
    elif column.type.unit in _PER_MICROSECOND:
        counts, factor = column.cast(pa.int64()), _PER_MICROSECOND[column.type.unit]
    else:  # microseconds or nanoseconds: always in range
        return column.cast(target, safe=False), np.zeros(len(column), dtype=bool)
    column, too_far = _null_beyond(column, counts, np.iinfo(np.int64).max // factor)
    return column.cast(target), too_far


def _null_beyond(column: Column, counts: Column, limit: int) -> tuple[Column, np.ndarray]:
    """`column` with null where its raw count lies beyond ±`limit` (what the target type
    holds), and those rows."""
    beyond = _true_at(pc.or_(pc.greater(counts, limit), pc.less(counts, -limit)))
    if beyond.any():
        column = pc.if_else(pa.array(beyond), pa.scalar(None, column.type), column)
    return column, beyond


def _local_to_utc(local: pd.Series, timezone: str) -> pd.Series:
    """Naive local times to UTC; a time that does not exist or is ambiguous becomes NaT."""
    return local.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")


def _parse_timestamps(text: pd.Series, timezone: str) -> pd.Series:
    """Text as UTC times; text that does not parse (or lies beyond what pandas holds)
    becomes NaT."""
    with_offset = text.str.contains(_OFFSET_PATTERN, regex=True, na=False).to_numpy(dtype=bool)
    parsed = pd.Series(pd.NaT, index=text.index, dtype=pd.DatetimeTZDtype("us", "UTC"))
    if with_offset.any():
        aware = pd.to_datetime(text[with_offset], utc=True, errors="coerce", format="ISO8601")
        parsed[with_offset] = aware.dt.as_unit("us")
    if (~with_offset).any():
        naive = pd.to_datetime(text[~with_offset], errors="coerce", format="ISO8601")
        parsed[~with_offset] = _local_to_utc(naive, timezone).dt.as_unit("us")
    return parsed
