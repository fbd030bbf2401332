"""Failures the ingest fuzzing found (`test_ingest_fuzz.py`), each pinned by name.

Before their fixes each of these ended in a raw traceback (UnicodeDecodeError, csv.Error,
ArrowInvalid, DuckDB's InvalidInputException) or, worse, in wrong data: a timestamp
beyond what microseconds hold was wrapped into a garbage time and accepted, and a GBK
file behind a UTF-8 BOM lost its first column name, so every row was quarantined for a
missing value it had.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from powerhall.cli import app
from powerhall.contract import Table
from powerhall.errors import ContractError
from powerhall.ingest import IngestReport, ingest
from powerhall.lake import read_table
from tests.powerhall.ingest.factories import text_frames, valid_frames, write_frames


def _run(dirs: dict[str, Path]) -> IngestReport:
    return ingest(dirs["raw"], dirs["lake"], dirs["quarantine"])


def _parquet_bytes(table: pa.Table) -> bytes:
    """Plain pages and no stored Arrow schema, so that names and values can be patched."""
    buffer = io.BytesIO()
    pq.write_table(table, buffer, store_schema=False, compression="NONE", use_dictionary=False)
    return buffer.getvalue()


def _customers_parquet(patch: tuple[bytes, bytes]) -> bytes:
    customers = pa.Table.from_pandas(text_frames()[Table.CUSTOMERS], preserve_index=False)
    data = _parquet_bytes(customers.replace_schema_metadata(None))
    old, new = patch
    assert len(old) == len(new) and old in data
    return data.replace(old, new)


def _with_customers(dirs: dict[str, Path]) -> None:
    write_frames(dirs["raw"], {Table.CUSTOMERS: text_frames()[Table.CUSTOMERS]})


def _quarantine_reasons(dirs: dict[str, Path], table: Table) -> dict[int, str]:
    (path,) = (dirs["quarantine"] / table.value).glob("*.parquet")
    rejected = pd.read_parquet(path)
    return dict(zip(rejected["source_row"], rejected["reason"], strict=True))


def test_parquet_column_name_that_is_not_utf8_is_refused(dirs: dict[str, Path]) -> None:
    dirs["raw"].mkdir(parents=True)
    (dirs["raw"] / "customers.parquet").write_bytes(_customers_parquet((b"hall_id", b"hall\xffid")))

    with pytest.raises(ContractError, match=r"^customers\.parquet: not a readable Parquet file"):
        _run(dirs)


def test_parquet_text_that_is_not_utf8_is_refused_naming_the_column(
    dirs: dict[str, Path],
) -> None:
    dirs["raw"].mkdir(parents=True)
    (dirs["raw"] / "customers.parquet").write_bytes(_customers_parquet((b"SH-H02", b"SH\xffH02")))

    with pytest.raises(
        ContractError, match=r"^customers\.parquet: column hall_id holds text that is not UTF-8"
    ):
        _run(dirs)
    assert not dirs["lake"].exists() or not list(dirs["lake"].rglob("*.parquet"))


def test_csv_neither_utf8_nor_gbk_is_refused_in_one_line(dirs: dict[str, Path]) -> None:
    _with_customers(dirs)
    events = text_frames()[Table.SERVICE_EVENTS].to_csv(index=False).encode("gb18030")
    (dirs["raw"] / "service_events.csv").write_bytes(events.replace(b"E4", b"\xff\xff"))

    result = CliRunner().invoke(
        app,
        [
            "ingest",
            str(dirs["raw"]),
            "--into",
            str(dirs["lake"]),
            "--quarantine",
            str(dirs["quarantine"]),
        ],
    )

    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: service_events.csv: text is neither UTF-8 nor GBK")


def test_csv_header_with_a_stray_carriage_return_is_refused(dirs: dict[str, Path]) -> None:
    _with_customers(dirs)
    events = text_frames()[Table.SERVICE_EVENTS].to_csv(index=False)
    (dirs["raw"] / "service_events.csv").write_text(events.replace("kind", "ki\rnd", 1))

    with pytest.raises(ContractError, match=r"^service_events\.csv: header is not one CSV line"):
        _run(dirs)


def test_gbk_rows_after_a_utf8_bom_keep_their_columns(dirs: dict[str, Path]) -> None:
    _with_customers(dirs)
    events = text_frames()[Table.SERVICE_EVENTS].to_csv(index=False).encode("gb18030")
    (dirs["raw"] / "service_events.csv").write_bytes(b"\xef\xbb\xbf" + events)

    report = _run(dirs)

    assert report.tables[Table.SERVICE_EVENTS].accepted == 4
    lake = read_table(dirs["lake"], Table.SERVICE_EVENTS, where="event_id = 'E3'")
    assert lake["text"].tolist() == ["电费太高"]


def test_whole_number_beyond_int64_is_quarantined_as_out_of_range(
    dirs: dict[str, Path],
) -> None:
    frames = text_frames()
    events = frames[Table.SERVICE_EVENTS]
    events.loc[1, "satisfaction"] = "inf"
    surveys = [{**events.iloc[1].to_dict(), "event_id": f"S{n}"} for n in range(2)]
    surveys[0]["satisfaction"], surveys[1]["satisfaction"] = "1e300", "9223372036854775808"
    frames[Table.SERVICE_EVENTS] = pd.concat([events, pd.DataFrame(surveys)], ignore_index=True)
    write_frames(dirs["raw"], {t: frames[t] for t in (Table.CUSTOMERS, Table.SERVICE_EVENTS)})

    report = _run(dirs)

    out_of_range = "satisfaction is out of range"
    assert report.tables[Table.SERVICE_EVENTS].reasons == {out_of_range: 3}
    assert _quarantine_reasons(dirs, Table.SERVICE_EVENTS) == dict.fromkeys([2, 5, 6], out_of_range)


def test_unsigned_satisfaction_beyond_int64_is_quarantined(dirs: dict[str, Path]) -> None:
    _with_customers(dirs)
    events = pa.Table.from_pandas(valid_frames()[Table.SERVICE_EVENTS], preserve_index=False)
    satisfaction = pa.array([None, 2**63, None, None], pa.uint64())
    events = events.set_column(
        events.schema.get_field_index("satisfaction"), "satisfaction", satisfaction
    )
    pq.write_table(events, dirs["raw"] / "service_events.parquet")

    report = _run(dirs)

    assert report.tables[Table.SERVICE_EVENTS].reasons == {"satisfaction is out of range": 1}


def test_integer_kwh_beyond_float_precision_is_read(dirs: dict[str, Path]) -> None:
    _with_customers(dirs)
    readings = valid_frames()[Table.READINGS].assign(kwh_03=2**62 + 1)
    readings.to_parquet(dirs["raw"] / "readings.parquet", index=False)

    report = _run(dirs)

    assert report.tables[Table.READINGS].accepted == len(readings)
    assert (read_table(dirs["lake"], Table.READINGS)["kwh_03"] == float(2**62)).all()


@pytest.mark.parametrize(
    "far",
    [
        pa.array([10**14] * 4, pa.timestamp("s")),
        pa.array([10**14] * 4, pa.timestamp("s", tz="UTC")),
        pa.array([-(10**16)] * 4, pa.timestamp("ms", tz="Asia/Shanghai")),
        pa.array([2**31 - 1] * 4, pa.date32()),
    ],
    ids=["naive seconds", "UTC seconds", "local milliseconds", "date"],
)
def test_timestamp_beyond_microseconds_is_quarantined_not_wrapped(
    dirs: dict[str, Path], far: pa.Array
) -> None:
    _with_customers(dirs)
    events = pa.Table.from_pandas(valid_frames()[Table.SERVICE_EVENTS], preserve_index=False)
    ts = events.column("ts").cast(far.type)
    mixed = pc.if_else(pa.array([True, False, True, True]), ts, far)  # row 2 far
    pq.write_table(
        events.set_column(events.schema.get_field_index("ts"), "ts", mixed),
        dirs["raw"] / "service_events.parquet",
    )

    report = _run(dirs)

    assert report.tables[Table.SERVICE_EVENTS].reasons == {"ts is out of range": 1}
    assert _quarantine_reasons(dirs, Table.SERVICE_EVENTS) == {2: "ts is out of range"}
    lake = read_table(dirs["lake"], Table.SERVICE_EVENTS)
    assert lake["ts"].dt.year.between(2000, 2100).all()


def _events_csv_lines(rows: pd.DataFrame, encoding: str, *, header: bool) -> bytes:
    return rows.to_csv(index=False, header=header).encode(encoding)


def test_utf8_file_with_a_gbk_row_keeps_both_texts(dirs: dict[str, Path]) -> None:
    """Read whole as GB18030, the UTF-8 rows' Chinese turned into other characters."""
    _with_customers(dirs)
    events = text_frames()[Table.SERVICE_EVENTS]
    pasted = events.iloc[[0]].assign(event_id="B1", text="投诉")
    (dirs["raw"] / "service_events.csv").write_bytes(
        _events_csv_lines(events, "utf-8", header=True)
        + _events_csv_lines(pasted, "gb18030", header=False)
    )

    _run(dirs)

    lake = read_table(dirs["lake"], Table.SERVICE_EVENTS).set_index("event_id")
    assert lake.loc[["E3", "B1"], "text"].tolist() == ["电费太高", "投诉"]


def test_gbk_file_whose_short_values_look_like_utf8_stays_gbk(dirs: dict[str, Path]) -> None:
    """'小' in GBK (D0 A1) is valid two-byte UTF-8 ('С'); the file is GBK all the same."""
    _with_customers(dirs)
    events = text_frames()[Table.SERVICE_EVENTS]
    events["text"] = ["小", "小", "电费太高", None]
    (dirs["raw"] / "service_events.csv").write_bytes(
        _events_csv_lines(events, "gb18030", header=True)
    )

    _run(dirs)

    lake = read_table(dirs["lake"], Table.SERVICE_EVENTS).set_index("event_id")
    assert lake.loc[["E1", "E2", "E3"], "text"].tolist() == ["小", "小", "电费太高"]


@pytest.mark.parametrize("zone", [None, "UTC"], ids=["naive", "UTC"])
def test_nanosecond_timestamps_are_truncated_to_microseconds(
    dirs: dict[str, Path], zone: str | None
) -> None:
    _with_customers(dirs)
    events = pa.Table.from_pandas(valid_frames()[Table.SERVICE_EVENTS], preserve_index=False)
    ts = events.column("ts").cast(pa.timestamp("ns", tz=zone))
    ts = pc.add(ts.cast(pa.int64()), 789).cast(ts.type)  # 789 ns past each microsecond
    pq.write_table(
        events.set_column(events.schema.get_field_index("ts"), "ts", ts),
        dirs["raw"] / "service_events.parquet",
    )

    report = _run(dirs)

    assert report.tables[Table.SERVICE_EVENTS].accepted == len(events)
    lake = read_table(dirs["lake"], Table.SERVICE_EVENTS).set_index("event_id")
    original = valid_frames()[Table.SERVICE_EVENTS].set_index("event_id")["ts"]
    stored = lake.loc[original.index, "ts"]
    if zone is None:  # naive times are Shanghai wall-clock time, 8 hours ahead of UTC
        stored = stored + pd.Timedelta(hours=8)
    assert stored.tolist() == original.tolist()


def test_earliest_nanosecond_due_date_is_read(dirs: dict[str, Path]) -> None:
    """Normalising the earliest nanosecond time to midnight (pandas) wrapped around and
    crashed the cast that followed; the date is taken in Arrow now."""
    _with_customers(dirs)
    bills = pa.Table.from_pandas(valid_frames()[Table.BILLS], preserve_index=False)
    earliest = pa.array([-(2**63) + 1] * 3, pa.int64()).cast(pa.timestamp("ns"))
    pq.write_table(
        bills.set_column(bills.schema.get_field_index("due_date"), "due_date", earliest),
        dirs["raw"] / "bills.parquet",
    )

    report = _run(dirs)

    assert report.tables[Table.BILLS].accepted == 3
    due = read_table(dirs["lake"], Table.BILLS)["due_date"]
    assert due.dt.date.astype(str).tolist() == ["1677-09-21"] * 3
