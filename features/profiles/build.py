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
from features.profiles.engines import DuckDBEngine, Engine, SparkEngine
from features.profiles.model import View
from features.profiles.sql import (
    BuildPlan,
    lookback_weeks,
    profiles_sql,
    snapshot_week,
    view_sql,
    weekly_sql,
)
from powerhall.contract import LOCAL_TIMEZONE, Table
from powerhall.errors import ContractError

logger = logging.getLogger(__name__)

EngineName = Literal["duckdb", "spark"]
_EPOCH = date(1970, 1, 1)


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
    on_view: Callable[[str, int], None] | None = None,
) -> BuildResult:
    """Write one Parquet table per view under `out_dir/<view>/`.

    Each row is a customer at a snapshot (`event_timestamp`, Monday 00:00 local time)
    and is computed only from data dated before it. `snapshots` defaults to every
    Monday the readings cover, from `since` on, or only the newest with `latest_only`
    (the profile to serve); `on_view(name, rows)` reports each table written.
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
        plan = BuildPlan(
            first_week=int(snapshot_frame["week"].min()) - lookback_weeks(),
            last_week=int(snapshot_frame["week"].max()),
            timezone=timezone,
        )
        runner.register_frame("snapshots", snapshot_frame)
        runner.register_frame(
            "weeks",
            pd.DataFrame({"week": range(plan.first_week, plan.last_week + 1)}, dtype="int64"),
        )
        runner.create_table("weekly", weekly_sql(views, plan))
        runner.create_table("profiles", profiles_sql(views, plan))
        rows: dict[str, int] = {}
        out_dir.mkdir(parents=True, exist_ok=True)
        for view in views:
            staging = out_dir / f".{view.name}.tmp"
            shutil.rmtree(staging, ignore_errors=True)
            rows[view.name] = runner.write_parquet(view_sql(view), staging)
            target = out_dir / view.name
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
            logger.info("wrote %s rows of %s to %s", rows[view.name], view.name, target)
            if on_view:
                on_view(view.name, rows[view.name])
        return BuildResult(out_dir=out_dir, snapshots=tuple(chosen), rows=rows)
    finally:
        if isinstance(engine, str):
            runner.close()
