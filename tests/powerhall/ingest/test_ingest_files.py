"""Reading input files: encodings, layouts, types, and files that cannot be read at all."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from powerhall.contract import Table
from powerhall.errors import ContractError
from powerhall.ingest import IngestReport, ingest
from powerhall.lake import read_table
from tests.powerhall.ingest.factories import text_frames, valid_frames, with_rows, write_frames


def _run(dirs: dict[str, Path]) -> IngestReport:
    return ingest(dirs["raw"], dirs["lake"], dirs["quarantine"])


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_with_chinese_values_in_each_encoding(dirs: dict[str, Path], encoding: str) -> None:
    frames = text_frames()
    events = frames[Table.SERVICE_EVENTS]
    frames[Table.SERVICE_EVENTS] = with_rows(events, {"event_id": "B1", "kind": "投诉"})
    write_frames(dirs["raw"], frames, encoding=encoding)

    report = _run(dirs)

    lake = read_table(dirs["lake"], Table.SERVICE_EVENTS, where="event_id = 'E3'")
    assert lake["text"].tolist() == ["电费太高"]
    assert report.tables[Table.SERVICE_EVENTS].reasons == {"unknown kind '投诉'": 1}
    (quarantined,) = (dirs["quarantine"] / "service_events").glob("*.parquet")
    assert pd.read_parquet(quarantined)["kind"].tolist() == ["投诉"]


def test_ids_stay_text(dirs: dict[str, Path]) -> None:
    frames = text_frames()
    frames[Table.CUSTOMERS]["customer_id"] = ["007", "008", "009"]
    write_frames(dirs["raw"], {Table.CUSTOMERS: frames[Table.CUSTOMERS]})
    _run(dirs)
    assert sorted(read_table(dirs["lake"], Table.CUSTOMERS)["customer_id"]) == ["007", "008", "009"]


def test_parquet_with_integer_ids_and_small_ints(dirs: dict[str, Path]) -> None:
    frames = valid_frames()
    customers = frames[Table.CUSTOMERS].assign(customer_id=[1, 2, 3])
    events = frames[Table.SERVICE_EVENTS].assign(
        customer_id=[1, 1, 2, 3], satisfaction=pd.array([None, 4, None, None], dtype="Int8")
    )
    write_frames(
        dirs["raw"], {Table.CUSTOMERS: customers, Table.SERVICE_EVENTS: events}, fmt="parquet"
    )
    report = _run(dirs)
    assert report.quarantined == 0
    lake = read_table(dirs["lake"], Table.SERVICE_EVENTS, where="kind = 'survey'")
    assert lake[["customer_id", "satisfaction"]].values.tolist() == [["1", 4]]


def test_parquet_bad_rows_are_quarantined_as_text(dirs: dict[str, Path]) -> None:
    frames = valid_frames()
    frames[Table.READINGS].loc[4, "kwh_07"] = -1.0
    write_frames(dirs["raw"], frames, fmt="parquet")

    report = _run(dirs)

    assert report.tables[Table.READINGS].reasons == {"negative kwh in kwh_07": 1}
    (path,) = (dirs["quarantine"] / "readings").glob("readings-*.parquet")
    rejected = pd.read_parquet(path)
    assert rejected[["customer_id", "date", "kwh_07", "source_row"]].values.tolist() == [
        ["C003", "2024-01-31", "-1", 5]
    ]


@pytest.mark.parametrize("written", ["2024-02-01 01:30:00", "2024-02-01T01:30:00+08:00"])
def test_naive_timestamps_are_local_time(dirs: dict[str, Path], written: str) -> None:
    frames = text_frames()
    frames[Table.SERVICE_EVENTS].loc[0, "ts"] = written
    write_frames(dirs["raw"], frames)
    _run(dirs)
    lake = read_table(
        dirs["lake"], Table.SERVICE_EVENTS, where="event_id = 'E1' AND month = '2024-02'"
    )
    assert lake["ts"].tolist() == [pd.Timestamp("2024-01-31 17:30", tz="UTC")]


def test_optional_columns_may_be_absent(dirs: dict[str, Path]) -> None:
    customers = text_frames()[Table.CUSTOMERS].drop(columns=["account_no", "phone", "closed_at"])
    write_frames(dirs["raw"], {Table.CUSTOMERS: customers})
    report = _run(dirs)
    assert report.tables[Table.CUSTOMERS].accepted == 3
    lake = read_table(dirs["lake"], Table.CUSTOMERS)
    assert lake[["account_no", "phone", "closed_at"]].isna().all().all()


def test_table_folder_of_parts_and_skipped_entries(dirs: dict[str, Path]) -> None:
    frames = valid_frames()
    readings = frames.pop(Table.READINGS)
    write_frames(dirs["raw"], frames, fmt="parquet")
    parts = dirs["raw"] / "readings"
    parts.mkdir()
    readings.iloc[:3].to_parquet(parts / "part-00000.parquet", index=False)
    readings.iloc[3:].to_csv(parts / "part-00001.csv", index=False)
    (parts / "_SUCCESS").touch()
    (dirs["raw"] / "truth").mkdir()
    (dirs["raw"] / "manifest.json").write_text("{}")
    (dirs["raw"] / "notes.txt").write_text("hello")

    report = _run(dirs)

    assert report.tables[Table.READINGS].files == [
        "readings/part-00000.parquet",
        "readings/part-00001.csv",
    ]
    assert report.tables[Table.READINGS].accepted == len(readings)
    assert [(entry.name, entry.why) for entry in report.skipped] == [
        ("manifest.json", "manifest of the synthetic generator, not a contract table"),
        ("notes.txt", "not a contract table"),
        ("truth", "hidden truth of the synthetic generator, not a contract table"),
    ]


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])


BROKEN = {
    "missing column": (
        lambda raw: (
            text_frames()[Table.READINGS]
            .drop(columns=["quality"])
            .to_csv(raw / "readings.csv", index=False)
        ),
        "readings.csv: wrong columns for readings: missing column(s) quality",
    ),
    "unexpected column": (
        lambda raw: (
            text_frames()[Table.READINGS]
            .assign(kwh_24="1")
            .to_csv(raw / "readings.csv", index=False)
        ),
        "readings.csv: wrong columns for readings: unexpected column(s) kwh_24",
    ),
    "not parquet": (
        lambda raw: (raw / "readings.parquet").write_bytes(b"PK\x03\x04 a zip file"),
        "readings.parquet: not a readable Parquet file",
    ),
    "truncated parquet": (
        lambda raw: (
            valid_frames()[Table.READINGS].to_parquet(raw / "readings.parquet"),
            _truncate(raw / "readings.parquet"),
        ),
        "readings.parquet: not a readable Parquet file",
    ),
    "truncated csv": (
        lambda raw: (
            text_frames()[Table.READINGS].to_csv(raw / "readings.csv", index=False),
            _truncate(raw / "readings.csv"),
        ),
        "readings.csv: not a readable CSV file",
    ),
    "empty csv": (
        lambda raw: (raw / "readings.csv").write_bytes(b""),
        "readings.csv: empty CSV file, no header",
    ),
    "other format in a table folder": (
        lambda raw: ((raw / "readings").mkdir(), (raw / "readings" / "part.xlsx").touch()),
        "readings/part.xlsx: not a Parquet or CSV file",
    ),
    "wrong type in parquet": (
        lambda raw: (
            valid_frames()[Table.READINGS].assign(quality=1.5).to_parquet(raw / "readings.parquet")
        ),
        "readings.parquet: column quality holds double",
    ),
}


@pytest.mark.parametrize("case", BROKEN, ids=str)
def test_unreadable_file_is_a_contract_error_naming_file_and_problem(
    dirs: dict[str, Path], case: str
) -> None:
    make, message = BROKEN[case]
    write_frames(dirs["raw"], {Table.CUSTOMERS: text_frames()[Table.CUSTOMERS]})
    make(dirs["raw"])
    with pytest.raises(ContractError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        _run(dirs)


def test_input_without_contract_tables(dirs: dict[str, Path]) -> None:
    dirs["raw"].mkdir()
    (dirs["raw"] / "manifest.json").write_text("{}")
    with pytest.raises(ContractError, match="no contract tables"):
        _run(dirs)
    with pytest.raises(ContractError, match="no such directory"):
        ingest(dirs["raw"] / "absent", dirs["lake"], dirs["quarantine"])
