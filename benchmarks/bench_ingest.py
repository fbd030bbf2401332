"""Ingest speed on a realistic size: 5,000 customers x 730 days of readings (3.65 M rows).

The readings are drawn with numpy (shape only, not realism: the ingest checks values, it
does not model them) and written as Parquet parts, one per 1,000 customers, as a large
input arrives. Prints rows per second of a first ingest into an empty lake and of a
second ingest of the same files (nothing to write), and the ratio of the first to the
60 s budget of the issue ("well under a minute on 2 cores").

    python benchmarks/bench_ingest.py [--customers 5000] [--days 730] [--csv]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from powerhall.contract import KWH_COLUMNS, Table
from powerhall.ingest import ingest

from results import Row, record

BUDGET_S = 60.0
CUSTOMERS_PER_PART = 1_000


def _customers(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in range(n)],
            "segment": "residential",
            "region": "shanghai",
            "hall_id": "SH-H01",
            "tariff_id": "shanghai-res-tiered",
            "contract_capacity_kva": np.nan,
            "has_app": True,
            "push_consent": False,
            "created_at": pd.Timestamp("2020-01-01", tz="UTC"),
        }
    )


def _readings(first: int, count: int, days: int, rng: np.random.Generator) -> pd.DataFrame:
    dates = pd.date_range("2023-01-01", periods=days, freq="D").date
    ids = np.repeat([f"C{i:07d}" for i in range(first, first + count)], days)
    kwh = rng.gamma(2.0, 0.15, size=(count * days, 24))
    kwh[rng.random(kwh.shape) < 0.01] = np.nan
    frame = pd.DataFrame(kwh, columns=list(KWH_COLUMNS))
    frame.insert(0, "date", np.tile(dates, count))
    frame.insert(0, "customer_id", ids)
    frame["quality"] = np.where(rng.random(len(frame)) < 0.03, "estimated", "actual")
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--csv", action="store_true", help="write the parts as CSV")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        (raw / Table.READINGS.value).mkdir(parents=True)
        _customers(args.customers).to_parquet(raw / "customers.parquet", index=False)
        for first in range(0, args.customers, CUSTOMERS_PER_PART):
            count = min(CUSTOMERS_PER_PART, args.customers - first)
            part = _readings(first, count, args.days, rng)
            stem = raw / Table.READINGS.value / f"part-{first // CUSTOMERS_PER_PART:04d}"
            if args.csv:
                part.to_csv(stem.with_suffix(".csv"), index=False)
            else:
                part.to_parquet(stem.with_suffix(".parquet"), index=False)
        rows = args.customers * args.days
        measured: list[Row] = []
        for label in ("first ingest (empty lake)", "second ingest (same files)"):
            start = time.perf_counter()
            report = ingest(raw, Path(tmp) / "lake", Path(tmp) / "quarantine")
            seconds = time.perf_counter() - start
            readings = report.tables[Table.READINGS]
            print(
                f"{label}: {rows:,} readings rows in {seconds:.1f} s = "
                f"{rows / seconds:,.0f} rows/s; {seconds / BUDGET_S:.2f}x the {BUDGET_S:.0f} s "
                f"budget; new {readings.new:,}, unchanged {readings.unchanged:,}, "
                f"quarantined {readings.quarantined:,}"
            )
            measured.append(
                Row(
                    f"ingest, {label}",
                    seconds,
                    "s",
                    reference=BUDGET_S,
                    reference_name="budget",
                    ratio=seconds / BUDGET_S,
                    goal="<= 1.0x budget",
                    met=seconds <= BUDGET_S,
                )
            )
    record("ingest", measured, parameters=vars(args))


if __name__ == "__main__":
    main()
