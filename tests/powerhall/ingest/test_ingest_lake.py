"""What an ingest does to the lake: layout, idempotence, replace-by-key, atomicity."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from powerhall.contract import Table
from powerhall.errors import ContractError
from powerhall.ingest import IngestReport, ingest
from powerhall.lake import read_table, table_glob
from tests.powerhall.ingest.factories import snapshot, text_frames, with_rows, write_frames


def _ingest(raw: Path, dirs: dict[str, Path]) -> IngestReport:
    return ingest(raw, dirs["lake"], dirs["quarantine"])


def test_lake_layout_is_hive_partitioned(dirs: dict[str, Path]) -> None:
    write_frames(dirs["raw"], text_frames())
    _ingest(dirs["raw"], dirs)
    files = sorted(p.relative_to(dirs["lake"]).as_posix() for p in dirs["lake"].rglob("*.parquet"))
    assert files == [
        "bills/year=2023/data.parquet",
        "bills/year=2024/data.parquet",
        "customers/data.parquet",
        "readings/month=2024-01/data.parquet",
        "readings/month=2024-02/data.parquet",
        "service_events/month=2024-01/data.parquet",
        "service_events/month=2024-02/data.parquet",  # E1: 31 Jan in UTC, 1 Feb local
        "suggestion_outcomes/data.parquet",
    ]
    glob = table_glob(dirs["lake"], Table.READINGS)
    with duckdb.connect() as con:
        months = con.sql(
            f"SELECT month, count(*) FROM read_parquet('{glob}', hive_partitioning=true, "
            "union_by_name=true) GROUP BY month ORDER BY month"
        ).fetchall()
    assert months == [("2024-01", 3), ("2024-02", 3)]


def test_ingesting_the_same_files_again_changes_nothing(dirs: dict[str, Path]) -> None:
    frames = text_frames()
    frames[Table.READINGS] = with_rows(
        frames[Table.READINGS], {"date": "2024-03-01", "kwh_07": "-1"}
    )
    write_frames(dirs["raw"], frames)
    first = _ingest(dirs["raw"], dirs)
    before = snapshot(dirs["lake"], dirs["quarantine"])

    second = _ingest(dirs["raw"], dirs)

    assert snapshot(dirs["lake"], dirs["quarantine"]) == before
    for table, report in second.tables.items():
        assert (report.new, report.replaced) == (0, 0), table
        assert report.unchanged == first.tables[table].accepted == first.tables[table].new
        assert report.quarantined == first.tables[table].quarantined
    assert second.tables[Table.READINGS].quarantined == 1


def test_a_corrected_row_replaces_the_old_one_and_only_its_partition(
    dirs: dict[str, Path], tmp_path: Path
) -> None:
    write_frames(dirs["raw"], text_frames())
    _ingest(dirs["raw"], dirs)
    january = dirs["lake"] / "readings" / "month=2024-01" / "data.parquet"
    january_bytes = january.read_bytes()
    correction = text_frames()[Table.READINGS]
    correction.loc[correction["date"] == "2024-02-01", "kwh_00"] = "9.5"
    write_frames(tmp_path / "fix", {Table.READINGS: correction})

    report = _ingest(tmp_path / "fix", dirs).tables[Table.READINGS]

    assert (report.new, report.unchanged, report.replaced) == (0, 3, 3)
    lake = read_table(dirs["lake"], Table.READINGS)
    assert len(lake) == 6
    february = lake[lake["date"] == pd.Timestamp("2024-02-01")]
    assert february["kwh_00"].tolist() == [9.5, 9.5, 9.5]
    assert january.read_bytes() == january_bytes


def test_events_moved_to_another_month_leave_no_copy_behind(
    dirs: dict[str, Path], tmp_path: Path
) -> None:
    write_frames(dirs["raw"], text_frames())
    _ingest(dirs["raw"], dirs)
    events = text_frames()[Table.SERVICE_EVENTS]
    january = events[events["event_id"].isin(["E2", "E3"])]  # all of January's events
    write_frames(tmp_path / "fix", {Table.SERVICE_EVENTS: january.assign(ts="2024-03-02 02:00")})

    report = _ingest(tmp_path / "fix", dirs).tables[Table.SERVICE_EVENTS]

    assert report.replaced == 2
    lake = read_table(dirs["lake"], Table.SERVICE_EVENTS, columns=["event_id"])
    assert sorted(lake["event_id"]) == ["E1", "E2", "E3", "E4"]
    in_march = read_table(dirs["lake"], Table.SERVICE_EVENTS, where="month = '2024-03'")
    assert sorted(in_march["event_id"]) == ["E2", "E3"]
    assert not list((dirs["lake"] / "service_events" / "month=2024-01").glob("*.parquet"))


def test_within_one_run_a_later_file_wins(dirs: dict[str, Path]) -> None:
    customers = text_frames()[Table.CUSTOMERS]
    write_frames(dirs["raw"], {Table.CUSTOMERS: customers})
    parts = dirs["raw"] / "customers"
    parts.mkdir()
    customers.iloc[:1].assign(hall_id="SH-H07").to_csv(parts / "part-1.csv", index=False)

    report = _ingest(dirs["raw"], dirs).tables[Table.CUSTOMERS]

    assert (report.accepted, report.new, report.replaced) == (4, 3, 1)
    lake = read_table(dirs["lake"], Table.CUSTOMERS, where="customer_id = ?", params=["C001"])
    assert lake["hall_id"].tolist() == ["SH-H07"]


def test_a_broken_file_leaves_lake_and_quarantine_untouched(
    dirs: dict[str, Path], tmp_path: Path
) -> None:
    frames = text_frames()
    frames[Table.READINGS] = with_rows(
        frames[Table.READINGS], {"date": "2024-03-01", "quality": "guess"}
    )
    write_frames(dirs["raw"], frames)
    _ingest(dirs["raw"], dirs)
    before = snapshot(dirs["lake"], dirs["quarantine"])
    changed = text_frames()
    changed[Table.CUSTOMERS]["hall_id"] = "SH-H09"  # would replace every customer
    changed[Table.READINGS] = with_rows(
        changed[Table.READINGS], {"date": "2024-03-01", "kwh_07": "-1"}
    )
    write_frames(tmp_path / "next", changed)
    (tmp_path / "next" / "service_events.csv").write_text("event_id,customer_id\nE9,C001\n")

    with pytest.raises(ContractError, match=r"^service_events\.csv: wrong columns"):
        _ingest(tmp_path / "next", dirs)

    assert snapshot(dirs["lake"], dirs["quarantine"]) == before
    assert sorted(p.name for p in dirs["lake"].iterdir()) == sorted(t.value for t in Table)


def test_quarantine_follows_the_latest_ingest_of_a_file(
    dirs: dict[str, Path], tmp_path: Path
) -> None:
    """Readings for a customer not yet known are quarantined; once the customer arrives,
    the same file goes in whole and its quarantine file is removed."""
    frames = text_frames()
    write_frames(dirs["raw"], {Table.READINGS: frames[Table.READINGS]})
    first = _ingest(dirs["raw"], dirs).tables[Table.READINGS]
    assert first.reasons == {"unknown customer_id": 6}
    assert len(list((dirs["quarantine"] / "readings").glob("readings-*.parquet"))) == 1
    write_frames(tmp_path / "customers", {Table.CUSTOMERS: frames[Table.CUSTOMERS]})
    _ingest(tmp_path / "customers", dirs)

    again = _ingest(dirs["raw"], dirs).tables[Table.READINGS]

    assert (again.accepted, again.quarantined) == (6, 0)
    assert list((dirs["quarantine"] / "readings").glob("*.parquet")) == []
