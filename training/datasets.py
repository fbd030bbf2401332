"""Point-in-time training examples: a customer at a weekly profile snapshot, and what came next.

Features are the profile builder's offline tables (`<data>/features/<view>/`), each row
computed only from data dated before its snapshot (Monday 00:00 local time). A label
looks at the `horizon` days from the snapshot on: [snapshot, snapshot + horizon). An
example is kept only when that window lies entirely inside the data, so that a missing
event means "did not happen" rather than "not yet recorded".

The temporal split never lets a label window cross the cutoff: training examples' windows
end on or before it, test examples' windows start on or after it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from features.profiles import VIEWS
from powerhall.contract import EventKind, Segment, Table
from powerhall.errors import ContractError, PowerhallError
from powerhall.lake import read_table
from powerhall.settings import Settings

KEYS: Final = ("customer_id", "event_timestamp")
SNAPSHOT: Final = "snapshot"
LABEL: Final = "label"
ORACLE: Final = "oracle"
MIN_HISTORY_DAYS: Final = 90
"""Snapshots this soon after the first reading see too little history to learn from."""
CALIBRATION_WEEKS: Final = 8
TEST_WEEKS: Final = 13


@dataclass(frozen=True)
class Task:
    """What a risk model predicts: who is at risk, over what horizon, of which event."""

    name: str
    horizon_days: int
    segments: tuple[Segment, ...]
    labeller: Callable[[pd.DataFrame, Settings], pd.Series]
    """Label (0/1) of each example row (customer_id, snapshot) from the lake."""
    oracle: Callable[[pd.DataFrame, Settings], pd.Series]
    """The generator's true probability for each example row (NaN where unknown)."""


@dataclass(frozen=True)
class Examples:
    frame: pd.DataFrame
    features: tuple[str, ...]
    data_start: date
    data_end: date
    """Last day with readings: label windows must end on or before the day after it."""


@dataclass(frozen=True)
class Split:
    fit: pd.DataFrame
    calibrate: pd.DataFrame
    test: pd.DataFrame
    cutoff: date

    def window(self) -> dict[str, str]:
        """Snapshot ranges of each part, logged with the run."""
        return {
            f"{part}_{end}": str(getattr(self, part)[SNAPSHOT].agg(end))
            for part in ("fit", "calibrate", "test")
            for end in ("min", "max")
        } | {"cutoff": self.cutoff.isoformat()}


def load_profiles(offline_dir: Path, views: Sequence[str] | None = None) -> pd.DataFrame:
    """The views' tables joined on (customer_id, event_timestamp)."""
    names = [v.name for v in VIEWS] if views is None else list(views)
    frame: pd.DataFrame | None = None
    for name in names:
        path = offline_dir / name
        if not path.exists():
            raise ContractError(
                f"{path} is missing: build the profiles first (powerhall features build)"
            )
        table = pd.read_parquet(path)
        frame = table if frame is None else frame.merge(table, on=list(KEYS), how="inner")
    assert frame is not None
    return frame


def _local_day(timestamps: pd.Series, timezone: str) -> pd.Series:
    return timestamps.dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize()


def derive_features(profiles: pd.DataFrame, customers: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """Static customer attributes and 'days since' from the timestamp features."""
    frame = profiles.merge(customers, on="customer_id", how="inner")
    frame[SNAPSHOT] = _local_day(frame["event_timestamp"], timezone)
    for column in [c for c in frame.columns if c.endswith("_at") and c.startswith("last_")]:
        days = (frame["event_timestamp"] - frame[column]).dt.total_seconds() / 86_400
        frame[f"days_since_{column.removeprefix('last_').removesuffix('_at')}"] = days
        frame = frame.drop(columns=column)
    frame["tenure_days"] = (frame["event_timestamp"] - frame["created_at"]).dt.days
    for segment in (Segment.COMMERCIAL, Segment.INDUSTRIAL):
        frame[f"is_{segment}"] = (frame["segment"] == segment).astype(float)
    flags = [
        c
        for c in frame.columns
        if frame[c].dtype in (bool, object) and c not in ("customer_id", "segment")
    ]
    frame[flags] = frame[flags].astype("float64")  # nullable booleans: None becomes NaN
    return frame


def data_bounds(lake_dir: Path) -> tuple[date, date]:
    bounds = read_table(lake_dir, Table.READINGS, columns=["date"]).agg(["min", "max"])["date"]
    if bounds.isna().any():
        raise ContractError(f"{lake_dir / Table.READINGS} holds no readings")
    return pd.Timestamp(bounds["min"]).date(), pd.Timestamp(bounds["max"]).date()


def build_examples(task: Task, settings: Settings) -> Examples:
    """Every at-risk customer at every snapshot whose label window the data covers."""
    start, end = data_bounds(settings.lake_dir)
    customers = read_table(
        settings.lake_dir,
        Table.CUSTOMERS,
        columns=["customer_id", "segment", "contract_capacity_kva", "created_at", "closed_at"],
    )
    customers = customers[customers["segment"].isin([str(s) for s in task.segments])]
    frame = derive_features(load_profiles(settings.offline_dir), customers, settings.timezone)
    snapshot = frame[SNAPSHOT]
    closed = _local_day(frame["closed_at"], settings.timezone)
    keep = (
        (frame["created_at"] < frame["event_timestamp"])
        & (closed.isna() | (closed >= snapshot))
        & (snapshot >= pd.Timestamp(start + timedelta(days=MIN_HISTORY_DAYS)))
        & (snapshot + pd.Timedelta(days=task.horizon_days) <= pd.Timestamp(end + timedelta(1)))
    )
    frame = frame.loc[keep].drop(columns=["created_at", "closed_at"])
    if frame.empty:
        raise PowerhallError(
            f"no {task.name} examples: the data ({start} to {end}) must cover "
            f"{MIN_HISTORY_DAYS} days of history plus a {task.horizon_days}-day label window"
        )
    frame = frame.sort_values([SNAPSHOT, "customer_id"], kind="stable").reset_index(drop=True)
    frame[LABEL] = task.labeller(frame, settings).to_numpy(dtype=int)
    frame[ORACLE] = task.oracle(frame, settings).to_numpy(dtype=float)
    reserved = {*KEYS, SNAPSHOT, LABEL, ORACLE, "segment"}
    features = tuple(c for c in frame.columns if c not in reserved)
    frame[list(features)] = frame[list(features)].astype("float64")  # one type, train and serve
    return Examples(frame=frame, features=features, data_start=start, data_end=end)


def next_event_within(rows: pd.DataFrame, events: pd.DataFrame, horizon_days: int) -> pd.Series:
    """1 where the customer has an event (local `day`) in [snapshot, snapshot + horizon)."""
    left = pd.DataFrame(
        {
            "customer_id": rows["customer_id"].astype(object),
            SNAPSHOT: rows[SNAPSHOT].astype("datetime64[ns]"),
        }
    ).reset_index()
    left = left.sort_values(SNAPSHOT, kind="stable")
    right = pd.DataFrame(
        {
            "customer_id": events["customer_id"].astype(object),
            "day": events["day"].astype("datetime64[ns]"),
        }
    ).sort_values("day", kind="stable")
    matched = pd.merge_asof(
        left,
        right,
        left_on=SNAPSHOT,
        right_on="day",
        by="customer_id",
        direction="forward",
    ).set_index("index")
    within = matched["day"] < matched[SNAPSHOT] + pd.Timedelta(days=horizon_days)
    return within.reindex(rows.index).fillna(False).astype(int)


def complaint_events(settings: Settings) -> pd.DataFrame:
    events = read_table(
        settings.lake_dir,
        Table.SERVICE_EVENTS,
        columns=["customer_id", "ts"],
        where="kind = ?",
        params=[str(EventKind.COMPLAINT)],
    )
    return pd.DataFrame(
        {"customer_id": events["customer_id"], "day": _local_day(events["ts"], settings.timezone)}
    )


def closures(settings: Settings) -> pd.DataFrame:
    customers = read_table(settings.lake_dir, Table.CUSTOMERS, columns=["customer_id", "closed_at"])
    customers = customers.dropna(subset=["closed_at"])
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"],
            "day": _local_day(customers["closed_at"], settings.timezone),
        }
    )


def truth_table(settings: Settings, name: str, **filters: Sequence[object]) -> pd.DataFrame | None:
    """A table of the generator's hidden truth, or None where the data came from elsewhere."""
    path = settings.raw_dir / "truth" / name
    if not path.exists():
        return None
    predicates = [(column, "in", list(values)) for column, values in filters.items()]
    return pd.read_parquet(path, filters=predicates or None)


def temporal_split(
    examples: Examples,
    horizon_days: int,
    *,
    cutoff: date | None = None,
    test_weeks: int = TEST_WEEKS,
    calibration_weeks: int = CALIBRATION_WEEKS,
) -> Split:
    """Fit / calibrate / test by snapshot time, no label window crossing a boundary.

    The default cutoff leaves `test_weeks` weekly snapshots to test on; the calibration
    slice is the latest `calibration_weeks` of snapshots whose windows end by the cutoff,
    and the fitting rows' windows end before that slice starts.
    """
    frame = examples.frame
    horizon = pd.Timedelta(days=horizon_days)
    snapshots = np.sort(frame[SNAPSHOT].unique())
    if cutoff is None:
        last_test = pd.Timestamp(snapshots[-1])
        cut = last_test - pd.Timedelta(weeks=test_weeks - 1)
    else:
        cut = pd.Timestamp(cutoff)
    test = frame[frame[SNAPSHOT] >= cut]
    before = frame[frame[SNAPSHOT] + horizon <= cut]
    if before.empty or test.empty:
        raise PowerhallError(
            f"cutoff {cut.date()} leaves no {'training' if before.empty else 'test'} examples: "
            f"snapshots run from {pd.Timestamp(snapshots[0]).date()} to "
            f"{pd.Timestamp(snapshots[-1]).date()} and labels look {horizon_days} days ahead"
        )
    calibration_start = before[SNAPSHOT].max() - pd.Timedelta(weeks=calibration_weeks - 1)
    calibrate = before[before[SNAPSHOT] >= calibration_start]
    fit = before[before[SNAPSHOT] + horizon <= calibration_start]
    if fit.empty:
        raise PowerhallError(
            f"cutoff {cut.date()} leaves nothing to fit before the {calibration_weeks}-week "
            "calibration slice: move it later"
        )
    return Split(fit=fit, calibrate=calibrate, test=test, cutoff=cut.date())
