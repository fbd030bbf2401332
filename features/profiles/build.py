"""Build the offline feature tables: weekly profile snapshots of every customer."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import pandas as pd

from features.profiles.catalogue import VIEWS
from features.profiles.engines import CustomerRange, DuckDBEngine, Engine, SparkEngine
from features.profiles.model import View
from features.profiles.sql import (
    BuildPlan,
    first_day_sql,
    lookback_weeks,
    profiles_sql,
    snapshot_week,
    view_sql,
    week_of,
    weekly_sql,
)
from powerhall.contract import LOCAL_TIMEZONE, Table
from powerhall.errors import ContractError

logger = logging.getLogger(__name__)

EngineName = Literal["duckdb", "spark"]
_EPOCH = date(1970, 1, 1)

DEFAULT_BUCKET_CUSTOMERS = 50_000
"""Customers built at once. A bucket of 50 k customers x 53 weekly rows works in about
12 GB with DuckDB; the demo's few thousand customers are one bucket."""


@dataclass(frozen=True)
class BuildResult:
    out_dir: Path
    snapshots: tuple[date, ...]
    rows: dict[str, int] = field(default_factory=dict)
    """Rows written per view table."""


def default_snapshots(first_day: date, last_day: date) -> list[date]:
    """Every Monday after the first reading day, up to the first Monday after the last.

    The last snapshot therefore sees all data: it is the profile as of today.
    """
    start = first_day + timedelta(days=7 - first_day.weekday())
    end = last_day + timedelta(days=7 - last_day.weekday())
    return [start + timedelta(weeks=i) for i in range((end - start).days // 7 + 1)]


def _check_snapshots(snapshots: Sequence[date]) -> list[date]:
    not_mondays = [d.isoformat() for d in snapshots if d.weekday() != 0]
    if not_mondays:
        raise ContractError(f"snapshots must be Mondays; not Mondays: {', '.join(not_mondays)}")
    if not snapshots:
        raise ContractError("no snapshot dates to build")
    return sorted(set(snapshots))


def _snapshot_frame(snapshots: Sequence[date], timezone: str) -> pd.DataFrame:
    days = [(d - _EPOCH).days for d in snapshots]
    return pd.DataFrame(
        {
            "week": pd.Series([snapshot_week(d) for d in days], dtype="int64"),
            "snapshot_day": pd.Series(days, dtype="int64"),
            "event_timestamp": pd.DatetimeIndex(pd.to_datetime(list(snapshots)))
            .tz_localize(timezone)
            .tz_convert("UTC"),
        }
    )


def _open(engine: EngineName) -> Engine:
    if engine == "duckdb":
        return DuckDBEngine()
    if engine == "spark":
        return SparkEngine()
    raise ContractError(f"unknown engine {engine!r}: use duckdb or spark")


def _buckets(runner: Engine, size: int) -> list[CustomerRange]:
    """Contiguous ranges of at most `size` customers, in the engine's own string order."""
    if size < 1:
        raise ContractError(f"customers per bucket must be at least 1, got {size}")
    ids = runner.query(f"SELECT DISTINCT customer_id FROM {Table.CUSTOMERS} ORDER BY customer_id")[
        "customer_id"
    ]
    bounds = [str(v) for v in ids.iloc[size::size]]
    return [
        CustomerRange(low, high) for low, high in zip([None, *bounds], [*bounds, None], strict=True)
    ]


def _plan(
    runner: Engine, views: Sequence[View], snapshot_frame: pd.DataFrame, tz: str
) -> BuildPlan:
    """The grid from a look-back before the first snapshot, or from the first week with
    data where that is later (a year of data under 65 weeks of look-back: 118 -> 53 weeks)."""
    first_snapshot_week = int(snapshot_frame["week"].min())
    first_week = first_snapshot_week - lookback_weeks()
    (first_day,) = runner.query(first_day_sql(views, tz))["first_day"]
    if not pd.isna(first_day):
        first_week = max(first_week, min(week_of(int(first_day)), first_snapshot_week))
    return BuildPlan(
        first_week=first_week, last_week=int(snapshot_frame["week"].max()), timezone=tz
    )


def build_profiles(
    lake_dir: Path,
    out_dir: Path,
    *,
    engine: EngineName | Engine = "duckdb",
    snapshots: Sequence[date] | None = None,
    since: date | None = None,
    latest_only: bool = False,
    views: Sequence[View] = VIEWS,
    timezone: str = LOCAL_TIMEZONE,
    bucket_customers: int = DEFAULT_BUCKET_CUSTOMERS,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> BuildResult:
    """Write one Parquet table per view under `out_dir/<view>/`.

    Each row is a customer at a snapshot (`event_timestamp`, Monday 00:00 local time)
    and is computed only from data dated before it. `snapshots` defaults to every
    Monday the readings cover, from `since` on, or only the newest with `latest_only`
    (the profile to serve).

    Customers are built in buckets of `bucket_customers` (one Parquet file per view and
    bucket), so that the engine's working set is one bucket's grid, whatever the number
    of customers. `on_progress(done, total, view)` reports each file written; the tables
    replace the old ones only when every bucket is written.
    """
    runner = _open(engine) if isinstance(engine, str) else engine
    try:
        runner.register_lake(lake_dir)
        if snapshots is None:
            bounds = runner.query(
                f"SELECT MIN(date) AS first, MAX(date) AS last FROM {Table.READINGS}"
            )
            first, last = bounds.iloc[0]
            if pd.isna(first):
                raise ContractError(f"{lake_dir / Table.READINGS} holds no readings")
            snapshots = default_snapshots(pd.Timestamp(first).date(), pd.Timestamp(last).date())
            if since is not None:
                snapshots = [d for d in snapshots if d >= since]
            if latest_only:
                snapshots = snapshots[-1:]
        chosen = _check_snapshots(snapshots)
        snapshot_frame = _snapshot_frame(chosen, timezone)
        plan = _plan(runner, views, snapshot_frame, timezone)
        buckets = _buckets(runner, bucket_customers)
        runner.register_frame("snapshots", snapshot_frame)
        runner.register_frame(
            "weeks",
            pd.DataFrame({"week": range(plan.first_week, plan.last_week + 1)}, dtype="int64"),
        )
        staging = {view.name: out_dir / f".{view.name}.tmp" for view in views}
        for folder in staging.values():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
        rows = dict.fromkeys(staging, 0)
        total = len(buckets) * len(views)
        for number, customers in enumerate(buckets):
            runner.register_lake(lake_dir, customers)
            runner.create_table("weekly", weekly_sql(views, plan))
            runner.create_table("profiles", profiles_sql(views, plan))
            for index, view in enumerate(views, start=number * len(views) + 1):
                target = staging[view.name] / f"part-{number:05d}.parquet"
                rows[view.name] += runner.write_parquet(view_sql(view), target)
                if on_progress:
                    on_progress(index, total, view.name)
        for name, folder in staging.items():
            target = out_dir / name
            shutil.rmtree(target, ignore_errors=True)
            folder.rename(target)
            logger.info("wrote %s rows of %s to %s", rows[name], name, target)
        return BuildResult(out_dir=out_dir, snapshots=tuple(chosen), rows=rows)
    finally:
        if isinstance(engine, str):
            runner.close()
