"""The profile builder on DuckDB: exact windows, point-in-time correctness, edge cases."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.profiles import VIEWS, build_profiles, default_snapshots
from powerhall.contract import KWH_COLUMNS, EventKind, Table
from powerhall.errors import ContractError, NotFoundError
from tests.features.lake import customers_frame, readings_frame, small_world, write_lake

SNAPSHOT = date(2024, 4, 1)  # a Monday
TZ = "Asia/Shanghai"


def _local(ts: str) -> pd.Timestamp:
    return pd.Timestamp(ts, tz=TZ).tz_convert("UTC")


def _events(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_id": [f"E{i}" for i in range(len(rows))],
            "customer_id": "A",
            "ts": pd.DatetimeIndex([_local(ts) for _, ts in rows]),
            "kind": [kind for kind, _ in rows],
            "channel": "hall",
            "wait_minutes": [10.0 if k == EventKind.HALL_VISIT else np.nan for k, _ in rows],
            "satisfaction": [np.nan] * len(rows),
            "text": None,
        }
    )


@pytest.fixture(scope="module")
def hand_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """One customer whose every value can be worked out by hand."""
    lake = tmp_path_factory.mktemp("hand") / "lake"
    start = date(2023, 1, 2)
    days = (date(2024, 4, 14) - start).days + 1  # runs past the snapshot
    hourly = np.array([[(d % 10) + h / 100 for h in range(24)] for d in range(days)])
    readings = readings_frame("A", start, hourly)
    readings.loc[readings["date"] == date(2024, 3, 1), "kwh_03"] = np.nan
    events = _events(
        [
            (EventKind.COMPLAINT, "2024-03-31 23:59"),  # last day before: counts
            (EventKind.COMPLAINT, "2024-04-01 00:00"),  # the snapshot instant: excluded
            (EventKind.COMPLAINT, "2024-03-02 00:30"),  # day S-30: inside 30 days
            (EventKind.COMPLAINT, "2024-03-01 23:00"),  # day S-31: outside 30, inside 90
            (EventKind.HALL_VISIT, "2023-06-01 10:00"),
            (EventKind.HALL_VISIT, "2023-03-01 10:00"),  # older than 365 days
        ]
    )
    bills = pd.DataFrame(
        {
            "customer_id": ["A", "A"],
            "period": ["2024-01", "2024-02"],
            "kwh": [300.0, 320.0],
            "amount_cny": [100.0, 150.0],
            "tariff_id": "t",
            "due_date": [date(2024, 2, 15), date(2024, 3, 15)],
            "paid_at": pd.DatetimeIndex([_local("2024-03-10 09:00"), pd.NaT]),
        }
    )
    write_lake(
        lake,
        {
            Table.CUSTOMERS: customers_frame(["A"]),
            Table.READINGS: readings,
            Table.SERVICE_EVENTS: events,
            Table.BILLS: bills,
        },
    )
    return lake, readings


def _row(out: Path, view: str, snapshot: date) -> pd.Series:
    frame = pd.read_parquet(out / view)
    stamp = pd.Timestamp(snapshot, tz=TZ).tz_convert("UTC")
    return frame.loc[frame["event_timestamp"] == stamp].iloc[0]


def test_windows_are_exact_days_before_the_snapshot(hand_lake, tmp_path: Path) -> None:
    lake, readings = hand_lake
    build_profiles(lake, tmp_path, snapshots=[SNAPSHOT])
    row = _row(tmp_path, "consumption", SNAPSHOT)
    daily = readings.set_index("date")[list(KWH_COLUMNS)].sum(axis=1, min_count=1)

    def window(days: int) -> pd.Series:
        return daily[(daily.index >= SNAPSHOT - timedelta(days=days)) & (daily.index < SNAPSHOT)]

    assert row["kwh_90d"] == pytest.approx(window(90).sum())
    assert row["kwh_365d"] == pytest.approx(window(365).sum())
    assert row["reading_days_365d"] == 365
    assert row["avg_daily_kwh_90d"] == pytest.approx(window(90).mean())
    assert row["estimated_share_365d"] == 0


def test_event_counts_respect_window_edges(hand_lake, tmp_path: Path) -> None:
    lake, _ = hand_lake
    build_profiles(lake, tmp_path, snapshots=[SNAPSHOT])
    row = _row(tmp_path, "service", SNAPSHOT)
    assert (row["complaints_30d"], row["complaints_90d"], row["complaints_365d"]) == (2, 3, 3)
    assert row["hall_visits_365d"] == 1
    assert row["mean_wait_minutes_365d"] == pytest.approx(10.0)
    live = _row(tmp_path, "service_live", SNAPSHOT)
    assert live["last_complaint_at"] == _local("2024-03-31 23:59")


@pytest.mark.parametrize(
    ("snapshot", "bills", "arrears", "late"),
    [
        (date(2024, 1, 29), 0, 0.0, 0),  # January's bill is not issued yet
        (date(2024, 2, 12), 1, 0.0, 0),  # issued, not yet due
        (date(2024, 3, 4), 2, 100.0, 1),  # January's is overdue
        (date(2024, 3, 11), 2, 0.0, 1),  # paid late on 10 March
        (date(2024, 3, 18), 2, 150.0, 2),  # February's is overdue and unpaid
    ],
)
def test_billing_follows_issue_due_and_payment_days(
    hand_lake, tmp_path: Path, snapshot: date, bills: int, arrears: float, late: int
) -> None:
    lake, _ = hand_lake
    build_profiles(lake, tmp_path, snapshots=[snapshot])
    row = _row(tmp_path, "billing", snapshot)
    assert (row["bills_365d"], row["arrears_cny"], row["late_payments_365d"]) == (
        bills,
        arrears,
        late,
    )


def test_future_data_leaves_past_snapshots_unchanged(tmp_path: Path) -> None:
    world = small_world(tmp_path / "lake", customers=4, days=200)
    snapshots = default_snapshots(world.start, world.start + timedelta(days=world.days + 60))
    build_profiles(world.lake_dir, tmp_path / "before", snapshots=snapshots)

    cutoff = snapshots[20]
    future = readings_frame("C0001", cutoff, np.full((30, 24), 50.0))
    late_events = _events([(EventKind.COMPLAINT, f"{cutoff} 00:00")])
    late_events["customer_id"] = "C0001"
    late_events["event_id"] = "FUTURE"
    write_lake(
        world.lake_dir,
        {Table.READINGS: future, Table.SERVICE_EVENTS: late_events},
        name="future",
    )
    build_profiles(world.lake_dir, tmp_path / "after", snapshots=snapshots)

    stamp = pd.Timestamp(cutoff, tz=TZ).tz_convert("UTC")
    for view in VIEWS:
        before = pd.read_parquet(tmp_path / "before" / view.name)
        after = pd.read_parquet(tmp_path / "after" / view.name)
        pd.testing.assert_frame_equal(
            before[before["event_timestamp"] <= stamp].reset_index(drop=True),
            after[after["event_timestamp"] <= stamp].reset_index(drop=True),
        )

    # ...while the snapshot after the cut-off does see the appended week.
    def kwh(out: str) -> float:
        frame = pd.read_parquet(tmp_path / out / "consumption")
        later = pd.Timestamp(snapshots[21], tz=TZ).tz_convert("UTC")
        pick = (frame["customer_id"] == "C0001") & (frame["event_timestamp"] == later)
        return float(frame.loc[pick, "kwh_90d"].iloc[0])

    assert kwh("after") > kwh("before")


def test_default_snapshots_cover_the_data_with_mondays() -> None:
    snapshots = default_snapshots(date(2024, 1, 3), date(2024, 2, 5))
    assert snapshots[0] == date(2024, 1, 8)
    assert snapshots[-1] == date(2024, 2, 12)
    assert {d.weekday() for d in snapshots} == {0}


def test_snapshots_must_be_mondays(hand_lake, tmp_path: Path) -> None:
    lake, _ = hand_lake
    with pytest.raises(ContractError, match="2024-04-02"):
        build_profiles(lake, tmp_path, snapshots=[date(2024, 4, 2)])


def test_missing_lake_names_the_table(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="customers"):
        build_profiles(tmp_path / "nothing", tmp_path / "out")


def test_customers_appear_only_while_they_exist(tmp_path: Path) -> None:
    customers = customers_frame(["A", "B"])
    customers["created_at"] = pd.DatetimeIndex([_local("2024-02-01"), _local("2023-01-01")])
    customers["closed_at"] = pd.DatetimeIndex([pd.NaT, _local("2024-03-01")])
    readings = pd.concat(
        [readings_frame(cid, date(2024, 1, 1), np.ones((100, 24))) for cid in ("A", "B")]
    )
    write_lake(tmp_path / "lake", {Table.CUSTOMERS: customers, Table.READINGS: readings})
    build_profiles(tmp_path / "lake", tmp_path / "out")
    frame = pd.read_parquet(tmp_path / "out" / "consumption")
    first = frame.groupby("customer_id")["event_timestamp"].min()
    last = frame.groupby("customer_id")["event_timestamp"].max()
    assert first["A"] == pd.Timestamp("2024-02-05", tz=TZ).tz_convert("UTC")
    assert last["B"] == pd.Timestamp("2024-02-26", tz=TZ).tz_convert("UTC")


def test_duckdb_engine_bounds_memory_and_spill() -> None:
    from features.profiles.engines import DuckDBEngine

    engine = DuckDBEngine(memory_limit="1GB", max_spill="2GB")
    try:
        limits = engine.query(
            "SELECT current_setting('memory_limit') AS memory, "
            "current_setting('max_temp_directory_size') AS spill"
        ).iloc[0]
    finally:
        engine.close()
    assert limits["memory"] == "953.6 MiB"
    assert limits["spill"] == "1.8 GiB"


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    return {view.name: pd.read_parquet(out / view.name) for view in VIEWS}


def _assert_same_tables(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    # Window sums over a grid of another length may differ in the last bits only; an
    # integer column with nulls in one selection and none in the other reads as float.
    for name, frame in left.items():
        pd.testing.assert_frame_equal(frame, right[name], check_dtype=False, rtol=1e-9, obj=name)


def test_buckets_build_the_same_tables_as_one(tmp_path: Path) -> None:
    world = small_world(tmp_path / "lake", customers=5, days=150)
    build_profiles(world.lake_dir, tmp_path / "whole")
    build_profiles(world.lake_dir, tmp_path / "buckets", bucket_customers=2)
    assert len(list((tmp_path / "buckets" / "consumption").glob("*.parquet"))) == 3
    _assert_same_tables(_tables(tmp_path / "whole"), _tables(tmp_path / "buckets"))


def test_a_later_grid_start_keeps_every_value(tmp_path: Path) -> None:
    """Snapshots a long look-back after the first data fold the older weeks into the
    grid's first row; snapshots before any data still list every customer."""
    world = small_world(tmp_path / "lake", customers=3, days=560)  # 80 weeks > 65 looked back
    everything = default_snapshots(world.start, world.start + timedelta(days=world.days))
    build_profiles(world.lake_dir, tmp_path / "all", snapshots=everything)
    late = everything[-3:]
    build_profiles(world.lake_dir, tmp_path / "late", snapshots=late)
    stamps = pd.DatetimeIndex(pd.to_datetime(late)).tz_localize(TZ).tz_convert("UTC")
    _assert_same_tables(
        {
            name: frame[frame["event_timestamp"].isin(stamps)].reset_index(drop=True)
            for name, frame in _tables(tmp_path / "all").items()
        },
        _tables(tmp_path / "late"),
    )

    early = [world.start - timedelta(weeks=3) - timedelta(days=world.start.weekday())]
    build_profiles(world.lake_dir, tmp_path / "early", snapshots=early)
    consumption = pd.read_parquet(tmp_path / "early" / "consumption")
    assert len(consumption) == 3
    assert (consumption["kwh_90d"] == 0).all()
