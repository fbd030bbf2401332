"""A tiny lake in the layout `powerhall ingest` writes, for the feature tests.

`write_lake` partitions frames like the ingest does (readings and service events by
`month=YYYY-MM`, bills by `year=YYYY`); `small_world` draws a few customers whose traits
(EV charging at night, electric heating) are known, with every contract table filled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from powerhall.contract import (
    CONTRACT_SCHEMAS,
    KWH_COLUMNS,
    EventKind,
    Outcome,
    ReadingQuality,
    Segment,
    SuggestionKind,
    Table,
)

UTC = "UTC"


def _write(frame: pd.DataFrame, table: Table, directory: Path, name: str) -> None:
    """Write with the lake's physical types, as the ingest does."""
    schema = CONTRACT_SCHEMAS[table]
    directory.mkdir(parents=True, exist_ok=True)
    arrow = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
    pq.write_table(arrow, directory / name)


def write_lake(lake_dir: Path, tables: dict[Table, pd.DataFrame], *, name: str = "part-0") -> None:
    """Write contract frames as the lake's Hive-partitioned Parquet (adds one file per part)."""
    for table, frame in tables.items():
        if table == Table.READINGS:
            keys = pd.to_datetime(frame["date"]).dt.strftime("%Y-%m")
            partition = "month"
        elif table == Table.SERVICE_EVENTS:
            keys = frame["ts"].dt.tz_convert("Asia/Shanghai").dt.strftime("%Y-%m")
            partition = "month"
        elif table == Table.BILLS:
            keys = frame["period"].str[:4]
            partition = "year"
        else:
            _write(frame, table, lake_dir / table, f"{name}.parquet")
            continue
        for key, part in frame.groupby(keys):
            _write(part, table, lake_dir / table / f"{partition}={key}", f"{name}.parquet")


def customers_frame(ids: list[str], *, segment: Segment = Segment.RESIDENTIAL) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame(
        {
            "customer_id": ids,
            "account_no": [f"A{i:08d}" for i in range(n)],
            "segment": [str(segment)] * n,
            "region": ["shanghai"] * n,
            "hall_id": ["H01"] * n,
            "tariff_id": ["sh-res-tiered"] * n,
            "contract_capacity_kva": [np.nan] * n,
            "has_app": [True] * n,
            "push_consent": [True] * n,
            "phone": ["13800000000"] * n,
            "created_at": pd.to_datetime(["2020-01-01"] * n).tz_localize(UTC),
            "closed_at": pd.to_datetime([None] * n).tz_localize(UTC),
        }
    )


def readings_frame(customer_id: str, start: date, hourly: np.ndarray) -> pd.DataFrame:
    """Readings of one customer from `start`, one row per line of `hourly` (days x 24)."""
    days = hourly.shape[0]
    frame = pd.DataFrame(hourly, columns=list(KWH_COLUMNS))
    frame.insert(0, "date", [start + timedelta(days=i) for i in range(days)])
    frame.insert(0, "customer_id", customer_id)
    frame["quality"] = str(ReadingQuality.ACTUAL)
    frame["max_demand_kw"] = np.nan
    return frame


@dataclass(frozen=True)
class World:
    lake_dir: Path
    start: date
    days: int
    ev_customers: frozenset[str]
    heating_customers: frozenset[str]
    customers: tuple[str, ...]


def _shape(
    rng: np.random.Generator, days: int, start: date, *, ev: bool, heating: bool
) -> np.ndarray:
    hours = np.arange(24)
    base = 0.25 + 0.35 * np.exp(-((hours - 20) ** 2) / 6) + 0.2 * np.exp(-((hours - 8) ** 2) / 3)
    load = np.tile(base, (days, 1)) * rng.lognormal(0, 0.15, size=(days, 24))
    months = np.array([(start + timedelta(days=i)).month for i in range(days)])
    if heating:
        winter = np.isin(months, (12, 1, 2))
        load[winter] += 1.5 * rng.uniform(0.7, 1.0, size=(int(winter.sum()), 24))
    if ev:
        nights = rng.random(days) < 0.5
        for d in np.flatnonzero(nights):
            first = int(rng.integers(22, 26)) % 24
            for h in range(first, first + 4):
                load[d if h < 24 else min(d + 1, days - 1), h % 24] += 6.6
    return np.round(load, 3)


def small_world(lake_dir: Path, *, customers: int = 12, days: int = 420, seed: int = 3) -> World:
    """A handful of residential customers with every contract table filled."""
    rng = np.random.default_rng(seed)
    start = date(2023, 1, 2)
    ids = [f"C{i:04d}" for i in range(customers)]
    ev = frozenset(ids[::4])
    heating = frozenset(ids[1::3])
    readings = []
    for cid in ids:
        frame = readings_frame(
            cid, start, _shape(rng, days, start, ev=cid in ev, heating=cid in heating)
        )
        missing = rng.random((days, 24)) < 0.01
        values = frame[list(KWH_COLUMNS)].to_numpy()
        values[missing] = np.nan
        frame[list(KWH_COLUMNS)] = values
        frame.loc[rng.random(days) < 0.05, "quality"] = str(ReadingQuality.ESTIMATED)
        readings.append(frame)
    periods = pd.period_range(start, periods=days // 31, freq="M")
    bills = pd.DataFrame(
        [
            {
                "customer_id": cid,
                "period": str(p),
                "kwh": float(rng.uniform(200, 600)),
                "amount_cny": float(np.round(rng.uniform(100, 400), 2)),
                "tariff_id": "sh-res-tiered",
                "due_date": (p + 1).start_time.date() + timedelta(days=14),
                "paid_at": (
                    pd.Timestamp(
                        (p + 1).start_time.date() + timedelta(days=int(rng.integers(3, 30)))
                    )
                    .tz_localize("Asia/Shanghai")
                    .tz_convert(UTC)
                    if rng.random() > 0.05
                    else pd.NaT
                ),
            }
            for cid in ids
            for p in periods
        ]
    )
    kinds = [
        EventKind.HALL_VISIT,
        EventKind.CALL_95598,
        EventKind.COMPLAINT,
        EventKind.SURVEY,
        EventKind.APP_LOGIN,
        EventKind.OUTAGE,
    ]
    n_events = customers * 30
    event_kinds = rng.choice([str(k) for k in kinds], size=n_events)
    event_ts = pd.Timestamp(start, tz=UTC) + pd.to_timedelta(
        rng.integers(0, days * 86400, size=n_events), unit="s"
    )
    events = pd.DataFrame(
        {
            "event_id": [f"E{i:06d}" for i in range(n_events)],
            "customer_id": rng.choice(ids, size=n_events),
            "ts": event_ts,
            "kind": event_kinds,
            "channel": "hall",
            "wait_minutes": np.where(
                event_kinds == str(EventKind.HALL_VISIT), rng.uniform(2, 40, size=n_events), np.nan
            ),
            "satisfaction": np.where(
                event_kinds == str(EventKind.SURVEY), rng.integers(1, 6, size=n_events), np.nan
            ),
            "text": None,
        }
    )
    n_sugg = customers * 6
    shown = pd.Timestamp(start, tz=UTC) + pd.to_timedelta(
        rng.integers(0, days * 86400, size=n_sugg), unit="s"
    )
    outcomes = pd.DataFrame(
        {
            "suggestion_id": [f"S{i:06d}" for i in range(n_sugg)],
            "customer_id": rng.choice(ids, size=n_sugg),
            "kind": rng.choice([str(k) for k in SuggestionKind], size=n_sugg),
            "item_id": "x",
            "channel": "app",
            "shown_at": shown,
            "outcome": rng.choice([str(o) for o in Outcome], size=n_sugg),
            "outcome_at": shown + pd.Timedelta(hours=3),
        }
    )
    write_lake(
        lake_dir,
        {
            Table.CUSTOMERS: customers_frame(ids),
            Table.READINGS: pd.concat(readings, ignore_index=True),
            Table.BILLS: bills,
            Table.SERVICE_EVENTS: events,
            Table.SUGGESTION_OUTCOMES: outcomes,
        },
    )
    return World(lake_dir, start, days, ev, heating, tuple(ids))
