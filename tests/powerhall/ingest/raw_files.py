"""Hypothesis strategies of raw input folders, valid and broken the ways real files are.

A drawn `RawInput` is the small valid dataset (`factories.text_frames`) with one table
(the target) damaged: cells replaced by values utilities' exports really hold (NaN, inf,
huge numbers, other date formats, naive and offset timestamps, stray text), rows
duplicated or removed, columns reordered, left out, added or renamed, then written as CSV
(UTF-8, BOM, GBK, UTF-16, a GBK row in a UTF-8 file, CRLF) or Parquet (text, typed or
neighbouring types, one value at the type's extreme), and perhaps truncated, overwritten
or emptied at the byte level. The customers file stays valid (unless it is the target),
so that the target's rows have customers to refer to.

`RawInput` says what the ingest may do with it: `must_read` when nothing but row values
were damaged (the file must then be read and every written row accounted for), and the
rows written, which the report's rows read must equal.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st

from powerhall.contract import CONTRACT_SCHEMAS, LOCAL_TIMEZONE, Table
from powerhall.ingest.schemas import OPTIONAL_COLUMNS
from tests.powerhall.ingest.factories import text_frames

NASTY_VALUES: Final = (
    # missing and not-a-number spellings
    "",
    " ",
    "NaN",
    "nan",
    "NA",
    "null",
    "None",
    "inf",
    "-inf",
    "Infinity",
    # numbers: huge, tiny, negative zero, locale and width variants
    "1e309",
    "-1e309",
    "1e308",
    "4.9e-324",
    "99999999999999999999999999999",
    "9223372036854775808",
    "-9223372036854775809",
    "-0",
    "-0.0",
    "0",
    "1.5",
    "2.5",
    "3",
    "7",
    "-1",
    "1,5",
    "１２",
    "0x1F",
    "1_000",
    " 2 ",
    # booleans as exported
    "true",
    "FALSE",
    "是",
    "否",
    "maybe",
    # dates and timestamps: other formats, impossible days, out of range, offsets
    "2024-02-29",
    "2023-02-29",
    "2024-02-30",
    "2024-13-01",
    "2024-01",
    "2024",
    "2024/03/01",
    "20240301",
    "01/03/2024",
    "2024-03-01T00:00:00",
    "2024-03-01 08:00",
    "2024-03-01T00:00:00Z",
    "2024-03-01 00:00:00+08:00",
    "2024-03-01 00:00:00+0800",
    "2024-03-01 00:00:00 +08:00",
    "2024-01-01 00:00:00+25:00",
    "2024-03-01 24:00:00",
    "1988-04-10 02:30:00",  # Shanghai kept summer time then: this hour did not exist
    "1988-09-11 01:30:00",  # and this one happened twice
    "0001-01-01",
    "1677-09-21 00:12:43",
    "1677-09-21 00:00:00+00:00",
    "2262-04-12 00:00:00",
    "2262-04-12 00:00:00+00:00",
    "9999-12-31 23:59:59",
    "10000-01-01",
    # enumerations, ids and text
    "residential",
    "industrial",
    "hall_visit",
    "survey",
    "Actual",
    "C001",
    "C002",
    "C999",
    "电费太高",
    "\x00",
    "a\nb",
    '"',
    "'; DROP TABLE customers; --",
    ",",
    "\ufeff",
    "😀",
    "x" * 2000,
)

MIXED: Final = "utf-8 with a gb18030 row"
CSV_ENCODINGS: Final = ("utf-8", "utf-8-sig", "gb18030", "utf-16", MIXED)
READABLE_ENCODINGS: Final = frozenset({"utf-8", "utf-8-sig", "gb18030", MIXED})
"""What `powerhall ingest` promises to read; any other encoding may be refused (clearly)."""


@dataclass(frozen=True)
class RawInput:
    """An input folder's files, and what an ingest must do with them."""

    target: Table
    files: dict[str, bytes]
    """Relative path → bytes."""
    written: pd.DataFrame
    """The target's rows as text, as written before any byte damage."""
    must_read: bool
    """True when only row values are damaged: the ingest must read the file and account
    for every row; otherwise it may also stop with a `ContractError` naming the file."""
    utf8_csv: bool
    """True for an intact UTF-8 CSV: its text decodes one way only, so quarantined values
    must read back as written (GBK bytes can also be valid UTF-8, by chance)."""
    description: str

    @property
    def rows_written(self) -> int:
        return len(self.written)

    def write(self, raw_dir: Path) -> Path:
        raw_dir.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            (raw_dir / name).write_bytes(data)
        return raw_dir

    @property
    def target_file(self) -> str:
        (name,) = [name for name in self.files if name.startswith(f"{self.target.value}.")]
        return name


def cell_values() -> st.SearchStrategy[str]:
    """A value of one cell: mostly from the list above, sometimes any text or number."""
    return st.one_of(
        st.sampled_from(NASTY_VALUES),
        st.text(max_size=12),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
    )


@st.composite
def _damaged_frame(draw: st.DrawFn, table: Table) -> tuple[pd.DataFrame, list[str]]:
    """The table's valid text rows with cells replaced and rows copied or removed."""
    frame = text_frames()[table]
    notes = []
    for _ in range(draw(st.integers(0, 2))):
        row = draw(st.integers(0, len(frame) - 1))
        frame = pd.concat([frame, frame.iloc[[row]]], ignore_index=True)
        notes.append(f"row {row} copied")
    for _ in range(draw(st.integers(0, 4))):
        row = draw(st.integers(0, len(frame) - 1))
        column = draw(st.sampled_from(list(frame.columns)))
        value = draw(cell_values())
        frame.loc[row, column] = value
        notes.append(f"{column}[{row}] = {value!r}")
    if draw(st.integers(0, 9)) == 0:
        keep = draw(st.integers(0, len(frame) - 1))
        frame = frame.iloc[:keep].reset_index(drop=True)
        notes.append(f"only {keep} rows")
    return frame, notes


@st.composite
def _columns(draw: st.DrawFn, table: Table, frame: pd.DataFrame) -> tuple[pd.DataFrame, bool, str]:
    """Columns reordered or left out (fine), or wrong (the file must then be refused)."""
    optional = sorted(OPTIONAL_COLUMNS[table])
    change = draw(
        st.sampled_from(
            ["none"] * 8
            + ["shuffle"] * 2
            + ["drop optional"] * 2
            + ["drop required", "extra", "renamed", "duplicated"]
        )
    )
    columns = list(frame.columns)
    if change == "shuffle":
        columns = draw(st.permutations(columns))
        return frame[columns], True, f"columns {columns}"
    if change == "drop optional":
        gone = draw(st.sampled_from(optional))
        return frame.drop(columns=[gone]), True, f"without optional {gone}"
    if change == "drop required":
        gone = draw(st.sampled_from([c for c in columns if c not in optional]))
        return frame.drop(columns=[gone]), False, f"without required {gone}"
    if change == "extra":
        return frame.assign(remark="x"), False, "extra column remark"
    if change == "renamed":
        old = draw(st.sampled_from(columns))
        new = draw(st.sampled_from([old.upper(), f" {old}", f"{old} ", f"\ufeff{old}"]))
        return frame.rename(columns={old: new}), False, f"column {old!r} renamed {new!r}"
    if change == "duplicated":
        name = draw(st.sampled_from(columns))
        doubled = pd.concat([frame, frame[[name]]], axis=1)
        return doubled, False, f"column {name} twice"
    return frame, True, "contract columns"


def _csv_bytes(frame: pd.DataFrame, encoding: str, newline: str) -> bytes:
    if encoding == MIXED:  # the last row pasted in from a GBK source
        head = frame.iloc[:-1].to_csv(index=False, lineterminator=newline).encode()
        tail = frame.iloc[-1:].to_csv(index=False, header=False, lineterminator=newline)
        return head + tail.encode("gb18030")
    return frame.to_csv(index=False, lineterminator=newline).encode(encoding)


@st.composite
def _csv_file(draw: st.DrawFn, frame: pd.DataFrame) -> tuple[bytes, bool, bool, str]:
    """Bytes, whether the ingest must read them, whether they are plain UTF-8, and a note.

    Every encoding here holds any text (GB18030 too). With "\n" line ends, a value holding
    a carriage return is written unquoted, and a bare CR ends a line for any CSV reader:
    such a file may be refused, or read with that row split."""
    encoding = draw(st.sampled_from(CSV_ENCODINGS))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    bare_cr = newline == "\n" and frame.map(lambda value: "\r" in value).any(axis=None)
    readable = encoding in READABLE_ENCODINGS and not bare_cr
    utf8 = readable and encoding in ("utf-8", "utf-8-sig")
    return _csv_bytes(frame, encoding, newline), readable, utf8, f"CSV {encoding} {newline!r}"


_ALTERNATIVE_TYPES: Final = {
    pa.string(): (pa.large_string(), pa.dictionary(pa.int32(), pa.string())),
    pa.float64(): (pa.float32(), pa.int32(), pa.decimal128(38, 10)),
    pa.int64(): (pa.int8(), pa.float64(), pa.uint64()),
    pa.bool_(): (pa.int8(), pa.string()),
    pa.date32(): (pa.timestamp("ns"), pa.timestamp("ms", tz="Asia/Shanghai"), pa.date64()),
}


_EXTREMES: Final[dict[str, list[object]]] = {
    "floating": [float("nan"), float("inf"), float("-inf"), 1.7e308, -0.0],
    "integer": ["min", "max"],
    # raw counts of the unit: far beyond year 294,000 in seconds, or nanoseconds that
    # microseconds cannot hold
    "timestamp": [2**62, 2**63 - 1, -(2**63) + 1, 1_700_000_000_123_456_789],
    "date": [2**31 - 1, -(2**31)],
}


def _extreme(draw: st.DrawFn, column: pa.Array) -> tuple[pa.Array, str]:
    """`column` with one value replaced by the largest or strangest its type holds."""
    kind = next((k for k in _EXTREMES if getattr(pa.types, f"is_{k}")(column.type)), None)
    if kind is None or len(column) == 0:
        return column, ""
    row = draw(st.integers(0, len(column) - 1))
    value = draw(st.sampled_from(_EXTREMES[kind]))
    if kind == "integer":
        info = np.iinfo(column.type.to_pandas_dtype())
        value = int(info.min if value == "min" else info.max)
    values = column.to_pylist() if kind in ("floating", "integer") else _counts(column)
    values[row] = value
    if kind in ("floating", "integer"):
        return pa.array(values, type=column.type), f"row {row} = {value!r}"
    storage = pa.int32() if pa.types.is_date32(column.type) else pa.int64()
    return pa.array(values, type=storage).cast(column.type), f"row {row} = {value!r} units"


def _counts(column: pa.Array) -> list[object]:
    """A date or timestamp column as its raw integer counts."""
    storage = pa.int32() if pa.types.is_date32(column.type) else pa.int64()
    return column.cast(storage).to_pylist()


def _typed(column: pa.Array, target: pa.DataType) -> pa.Array:
    """`column` (text) cast to `target`, or left as text where a value does not fit."""
    try:
        if pa.types.is_timestamp(target) or pa.types.is_date(target):
            parsed = pd.to_datetime(column.to_pandas(), errors="raise", format="mixed", utc=True)
            if getattr(target, "tz", None) is None:
                parsed = parsed.dt.tz_localize(None)
            return pa.array(parsed).cast(target)
        return column.cast(target)
    except (pa.ArrowException, ValueError, TypeError, OverflowError):
        return column


@st.composite
def _parquet_file(draw: st.DrawFn, table: Table, frame: pd.DataFrame) -> tuple[bytes, bool, str]:
    """Text columns, or each column in the contract's type or a neighbouring one."""
    contract = CONTRACT_SCHEMAS[table]
    arrays, kinds = [], []
    for position, name in enumerate(frame.columns):  # by position: a name may be doubled
        column = pa.array(frame.iloc[:, position].replace({"": None}), type=pa.string())
        wanted = contract.field(name).type if name in contract.names else pa.string()
        if pa.types.is_timestamp(wanted):
            wanted = draw(
                st.sampled_from(
                    [wanted, pa.timestamp("ns"), pa.timestamp("s", tz="Asia/Shanghai"), pa.date32()]
                )
            )
        options = [pa.string(), wanted, *_ALTERNATIVE_TYPES.get(wanted, ())]
        chosen = draw(st.sampled_from(options))
        if pa.types.is_dictionary(chosen):
            arrays.append(column.dictionary_encode())
        else:
            arrays.append(_typed(column, chosen))
        kinds.append(f"{name}:{arrays[-1].type}")
    if arrays and draw(st.booleans()):
        position = draw(st.integers(0, len(arrays) - 1))
        arrays[position], note = _extreme(draw, arrays[position])
        kinds.append(f"{frame.columns[position]} {note}")
    buffer = io.BytesIO()
    pq.write_table(pa.table(arrays, names=list(frame.columns)), buffer)
    return buffer.getvalue(), True, f"Parquet {', '.join(kinds)}"


@st.composite
def _byte_damage(draw: st.DrawFn, data: bytes) -> tuple[bytes, str]:
    damage = draw(st.sampled_from(["none"] * 12 + ["truncated", "overwritten", "empty", "junk"]))
    if damage == "truncated":
        cut = draw(st.integers(0, max(len(data) - 1, 0)))
        return data[:cut], f"truncated at {cut}"
    if damage == "overwritten":
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        junk = draw(st.binary(min_size=1, max_size=8))
        return data[:at] + junk + data[at + len(junk) :], f"{junk!r} at {at}"
    if damage == "empty":
        return b"", "empty"
    if damage == "junk":
        return draw(st.binary(max_size=64)), "junk bytes"
    return data, "intact"


@st.composite
def raw_inputs(draw: st.DrawFn) -> RawInput:
    """Customers plus one target table, the target damaged as described above."""
    target = draw(st.sampled_from(list(Table)))
    frame, notes = draw(_damaged_frame(target))
    frame, columns_ok, columns_note = draw(_columns(target, frame))
    if draw(st.booleans()):
        data, file_ok, utf8, format_note = draw(_csv_file(frame))
        suffix = "csv"
    else:
        data, file_ok, format_note = draw(_parquet_file(target, frame))
        utf8, suffix = False, "parquet"
    damaged, damage_note = draw(_byte_damage(data))
    files = {f"{target.value}.{suffix}": damaged}
    if target is not Table.CUSTOMERS:
        files["customers.csv"] = text_frames()[Table.CUSTOMERS].to_csv(index=False).encode()
    return RawInput(
        target=target,
        files=files,
        written=frame,
        must_read=columns_ok and file_ok and damaged == data,
        utf8_csv=utf8 and columns_ok and damaged == data,
        description="; ".join([*notes, columns_note, format_note, damage_note]),
    )


_LOCAL: Final = ZoneInfo(LOCAL_TIMEZONE)
_TRUE_SPELLINGS: Final = ("true", "True", "TRUE", "t", "yes", "Y", "1", "是", " true ")
_FALSE_SPELLINGS: Final = ("false", "False", "FALSE", "f", "no", "N", "0", "否", " false ")


@dataclass(frozen=True)
class ValidCustomers:
    """Valid customers rows as text in varied spellings, and the values the lake must hold."""

    text: pd.DataFrame
    expected: pd.DataFrame
    """customer_id, has_app, push_consent, contract_capacity_kva, created_at (UTC)."""


def _capacity() -> st.SearchStrategy[float]:
    return st.floats(min_value=0.001, max_value=1e12, allow_nan=False, allow_infinity=False)


def _capacity_text(draw: st.DrawFn, value: float) -> str:
    spelling = draw(st.sampled_from(["repr", "exponent", "fixed"]))
    if spelling == "exponent":
        return f"{value:.17e}"
    if spelling == "fixed":
        return f"{value:.17f}".rstrip("0")
    return repr(value)


def _instant_text(draw: st.DrawFn, utc: datetime) -> str:
    """One instant written the ways exports write it: local without offset, or with one."""
    local = utc.astimezone(_LOCAL).replace(tzinfo=None)
    spelling = draw(st.sampled_from(["local", "local T", "local minutes", "offset", "Z"]))
    if spelling == "local":
        return local.isoformat(sep=" ")
    if spelling == "local T":
        return local.isoformat()
    if spelling == "local minutes" and local.second == 0 and local.microsecond == 0:
        return local.strftime("%Y-%m-%d %H:%M")
    if spelling == "Z":
        return utc.replace(tzinfo=None).isoformat() + "Z"
    return utc.astimezone(_LOCAL).isoformat(sep=" ")


@st.composite
def valid_customers(draw: st.DrawFn) -> ValidCustomers:
    """1-6 residential or C&I customers; created since 1992 (Shanghai's last summer time
    ended in 1991, so every local time since names one instant)."""
    count = draw(st.integers(1, 6))
    ids = draw(
        st.lists(
            st.text(alphabet="0123456789ABCZ-_电", min_size=1, max_size=8).filter(
                lambda cid: cid.strip() == cid
            ),
            min_size=count,
            max_size=count,
            unique=True,
        )
    )
    text_rows, expected_rows = [], []
    for cid in ids:
        segment = draw(st.sampled_from(["residential", "commercial", "industrial"]))
        capacity = None if segment == "residential" else draw(_capacity())
        has_app = draw(st.booleans())
        push_consent = has_app and draw(st.booleans())
        created = draw(
            st.datetimes(min_value=datetime(1992, 1, 1), max_value=datetime(2030, 12, 31))
        ).replace(tzinfo=UTC)
        text_rows.append(
            {
                "customer_id": cid,
                "segment": segment,
                "region": "shanghai",
                "hall_id": "SH-H01",
                "tariff_id": "shanghai-res-tiered",
                "contract_capacity_kva": "" if capacity is None else _capacity_text(draw, capacity),
                "has_app": draw(st.sampled_from(_TRUE_SPELLINGS if has_app else _FALSE_SPELLINGS)),
                "push_consent": draw(
                    st.sampled_from(_TRUE_SPELLINGS if push_consent else _FALSE_SPELLINGS)
                ),
                "created_at": _instant_text(draw, created),
            }
        )
        expected_rows.append(
            {
                "customer_id": cid,
                "has_app": has_app,
                "push_consent": push_consent,
                "contract_capacity_kva": capacity,
                "created_at": pd.Timestamp(created),
            }
        )
    return ValidCustomers(pd.DataFrame(text_rows), pd.DataFrame(expected_rows))
