"""Factories of contract rows: a small valid dataset, and a writer of input folders.

Tests take `valid_frames()`, change or append rows, and write them with `write_frames`, as
CSV (what utilities send) or Parquet (what the generator writes).
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from powerhall.contract import KWH_COLUMNS, Table

TARIFFS = ("shanghai-res-tiered", "shanghai-com-tou", "shanghai-ind-demand")


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def valid_frames() -> dict[Table, pd.DataFrame]:
    """Three customers (one per segment) over two days that straddle a month end."""
    customers = pd.DataFrame(
        {
            "customer_id": ["C001", "C002", "C003"],
            "account_no": ["3100000001", "3100000002", None],
            "segment": ["residential", "commercial", "industrial"],
            "region": ["shanghai", "shanghai", "shanghai"],
            "hall_id": ["SH-H01", "SH-H01", "SH-H02"],
            "tariff_id": list(TARIFFS),
            "contract_capacity_kva": [np.nan, 200.0, 1250.0],
            "has_app": [True, True, False],
            "push_consent": [True, False, False],
            "phone": ["13800000001", None, "13800000003"],
            "created_at": [_utc("2020-03-01 02:00"), _utc("2019-06-15"), _utc("2018-01-10")],
            "closed_at": [pd.NaT, pd.NaT, _utc("2024-06-30")],
        }
    )
    days = [date(2024, 1, 31), date(2024, 2, 1)]
    rows = []
    for number, cid in enumerate(customers["customer_id"], start=1):
        for day in days:
            hourly = {name: 0.1 * number + 0.01 * h for h, name in enumerate(KWH_COLUMNS)}
            rows.append(
                {
                    "customer_id": cid,
                    "date": day,
                    **hourly,
                    "quality": "actual",
                    "max_demand_kw": np.nan if cid == "C001" else 40.0 * number,
                }
            )
    readings = pd.DataFrame(rows)
    readings.loc[1, "kwh_05"] = np.nan  # a missing hour is allowed
    readings.loc[2, "quality"] = "estimated"
    bills = pd.DataFrame(
        {
            "customer_id": ["C001", "C002", "C003"],
            "period": ["2024-01", "2024-01", "2023-12"],
            "kwh": [180.5, 2400.0, 51000.0],
            "amount_cny": [98.6, 1900.2, 36000.0],
            "tariff_id": list(TARIFFS),
            "due_date": [date(2024, 2, 20), date(2024, 2, 20), date(2024, 1, 20)],
            "paid_at": [_utc("2024-02-10 03:00"), pd.NaT, _utc("2024-01-15")],
        }
    )
    service_events = pd.DataFrame(
        {
            "event_id": ["E1", "E2", "E3", "E4"],
            "customer_id": ["C001", "C001", "C002", "C003"],
            "ts": [
                _utc("2024-01-31 17:30"),  # 01:30 on 1 February in Shanghai
                _utc("2024-01-05 02:00"),
                _utc("2024-01-06 08:00"),
                _utc("2024-02-03 01:00"),
            ],
            "kind": ["hall_visit", "survey", "complaint", "outage"],
            "channel": ["hall", "app", "phone", "grid"],
            "wait_minutes": [12.0, np.nan, np.nan, np.nan],
            "satisfaction": pd.array([pd.NA, 4, pd.NA, pd.NA], dtype="Int64"),
            "text": [None, None, "电费太高", None],
        }
    )
    suggestion_outcomes = pd.DataFrame(
        {
            "suggestion_id": ["S1", "S2"],
            "customer_id": ["C001", "C002"],
            "kind": ["tip", "tariff"],
            "item_id": ["tip-ac-26c", "shanghai-com-tou"],
            "channel": ["app", "counter"],
            "shown_at": [_utc("2024-01-10 01:00"), _utc("2024-01-11 02:00")],
            "outcome": ["accepted", "ignored"],
            "outcome_at": [_utc("2024-01-10 01:05"), pd.NaT],
        }
    )
    return {
        Table.CUSTOMERS: customers,
        Table.READINGS: readings,
        Table.BILLS: bills,
        Table.SERVICE_EVENTS: service_events,
        Table.SUGGESTION_OUTCOMES: suggestion_outcomes,
    }


def write_frames(
    raw_dir: Path,
    frames: dict[Table, pd.DataFrame],
    *,
    fmt: str = "csv",
    encoding: str = "utf-8",
) -> Path:
    """Write each frame as `<raw>/<table>.<fmt>`; CSV leaves missing values empty."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    for table, frame in frames.items():
        path = raw_dir / f"{table.value}.{fmt}"
        if fmt == "csv":
            frame.to_csv(path, index=False, encoding=encoding)
        else:
            frame.to_parquet(path, index=False)
    return raw_dir


def text_frames() -> dict[Table, pd.DataFrame]:
    """The valid dataset as a CSV holds it: every value text, missing values empty."""
    frames = {}
    for table, frame in valid_frames().items():
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        buffer.seek(0)
        frames[table] = pd.read_csv(buffer, dtype=str, keep_default_na=False)
    return frames


def with_rows(frame: pd.DataFrame, *changes: dict[str, str]) -> pd.DataFrame:
    """`frame` plus one row per change set, each a copy of the first row with changes."""
    base = frame.iloc[0].to_dict()
    added = pd.DataFrame([{**base, **change} for change in changes], columns=frame.columns)
    return pd.concat([frame, added], ignore_index=True)


def snapshot(*roots: Path) -> dict[str, bytes]:
    """Every file under the roots, by path, with its bytes: what an idempotent re-run or a
    refused input must leave unchanged."""
    return {
        str(path): path.read_bytes()
        for root in roots
        if root.exists()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
