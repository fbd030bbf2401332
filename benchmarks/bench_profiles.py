"""Profile build speed, appliance detection quality, and how the build scales.

    .venv/bin/python benchmarks/bench_profiles.py --customers 5000 --days 730
    .venv/bin/python benchmarks/bench_profiles.py --skip-demo --scale 10000,100000 \
        --engines duckdb,spark
    .venv/bin/python benchmarks/bench_profiles.py --skip-demo --scale 10000,100000,1000000 \
        --memory-limit 12GB --max-spill 50GB --materialize

Goals (issue 5):
- the consumption profile built by `features.profiles` on the demo data at >= 0.7x the
  speed of one hand-written DuckDB aggregate of the same core features at the same
  weekly snapshots (a range join of readings to snapshots: what one writes by hand);
- EV detection F1 >= 0.9 against the generator's hidden truth (heating and AC reported);
- build time for 10 k, 100 k, 1 M customers x 365 days growing about linearly (DuckDB and,
  with --engines duckdb,spark, Spark local mode), within this machine's memory. Each stage
  records its time, lake and output size, peak RSS and peak disk (lake + spill + output) in
  `results/profiles_scale.json` (or --record-as) as it ends; each size's files are deleted
  before the next, except the lakes kept with --lakes for a later run of another engine:

    .venv/bin/python benchmarks/bench_profiles.py --skip-demo --scale 1000000 \
        --engines spark --lakes /var/tmp/lakes --record-as profiles_scale_spark_1m
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.evaluation import appliance_scores, latest_appliances, read_truth
from features.materialize import materialize
from features.profiles import DEFAULT_BUCKET_CUSTOMERS, VIEWS, build_profiles
from features.profiles.catalogue import CONSUMPTION, PEAK_HOURS, VALLEY_HOURS
from features.profiles.engines import DuckDBEngine, Engine, SparkEngine
from features.store import apply_definitions, open_store
from powerhall.contract import CONTRACT_SCHEMAS, KWH_COLUMNS, Table
from powerhall.ingest import ingest
from powerhall.lake import read_parquet_sql
from powerhall.settings import Settings
from powerhall.synthetic import generate

from footprint import GIB, Footprint, directory_bytes
from results import Row, record

GOAL_SPEED_RATIO = 0.7
GOAL_EV_F1 = 0.9


def _sum(hours: object) -> str:
    return " + ".join(f"COALESCE(kwh_{h:02d}, 0)" for h in hours)  # type: ignore[attr-defined]


def hand_written_sql(lake_dir: Path, snapshots: list[date]) -> str:
    """The same core consumption features, written directly: readings joined to snapshots."""
    dates = ", ".join(f"DATE '{d}'" for d in snapshots)
    hours = " + ".join(f"CASE WHEN kwh_{h:02d} IS NULL THEN 0 ELSE 1 END" for h in range(24))
    return f"""
        WITH daily AS (
            SELECT customer_id, date, quality, {_sum(range(24))} AS kwh,
                   {hours} AS hours,
                   {_sum(VALLEY_HOURS)} AS valley, {_sum(PEAK_HOURS)} AS peak,
                   {_sum(range(0, 6))} AS night, {_sum(range(6, 12))} AS morning,
                   {_sum(range(12, 18))} AS afternoon, {_sum(range(18, 24))} AS evening,
                   GREATEST({", ".join(KWH_COLUMNS)}) AS max_hour
            FROM {read_parquet_sql(lake_dir, Table.READINGS)}
        ),
        snapshots AS (SELECT unnest([{dates}]) AS s)
        SELECT customer_id, s,
               SUM(CASE WHEN date >= s - INTERVAL 90 DAY THEN kwh END) AS kwh_90d,
               SUM(kwh) AS kwh_365d,
               AVG(CASE WHEN date >= s - INTERVAL 90 DAY AND hours > 0 THEN kwh END)
                   AS avg_daily_kwh_90d,
               COUNT(*) FILTER (WHERE hours > 0) AS reading_days_365d,
               AVG(CASE WHEN quality = 'estimated' THEN 1.0 ELSE 0.0 END) AS estimated_share,
               SUM(kwh) / NULLIF(SUM(hours), 0) / NULLIF(MAX(max_hour), 0) AS load_factor,
               SUM(night) / NULLIF(SUM(kwh), 0), SUM(morning) / NULLIF(SUM(kwh), 0),
               SUM(afternoon) / NULLIF(SUM(kwh), 0), SUM(evening) / NULLIF(SUM(kwh), 0),
               SUM(valley) / NULLIF(SUM(kwh), 0) AS valley_share_365d,
               SUM(peak) / NULLIF(SUM(kwh), 0) AS peak_share_365d,
               MAX(max_hour) AS max_hour_kwh_365d
        FROM daily JOIN snapshots ON date >= s - INTERVAL 365 DAY AND date < s
        GROUP BY customer_id, s
    """


def demo(customers: int, days: int, seed: int, work: Path) -> list[Row]:
    raw, lake = work / "raw", work / "lake"
    began = time.perf_counter()
    generate(customers=customers, days=days, seed=seed, out=raw)
    ingest(raw, lake, work / "quarantine")
    print(f"demo data: {customers:,} customers x {days} days ({time.perf_counter() - began:.0f} s)")

    began = time.perf_counter()
    result = build_profiles(lake, work / "consumption", views=[CONSUMPTION])
    ours = time.perf_counter() - began
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        began = time.perf_counter()
        con.execute(f"CREATE TABLE hand AS {hand_written_sql(lake, list(result.snapshots))}")
        hand = time.perf_counter() - began
    rows = result.rows[CONSUMPTION.name]
    print(f"\nconsumption view, {len(result.snapshots)} weekly snapshots, {rows:,} rows")
    print(f"  powerhall build_profiles  {ours:6.1f} s")
    print(f"  hand-written DuckDB SQL   {hand:6.1f} s")
    print(f"  speed ratio powerhall / hand {hand / ours:.2f} (goal >= {GOAL_SPEED_RATIO})")

    began = time.perf_counter()
    full = build_profiles(lake, work / "features")
    elapsed = time.perf_counter() - began
    print(f"\nall {len(VIEWS)} views: {elapsed:.1f} s, {sum(full.rows.values()):,} rows")

    scores = appliance_scores(latest_appliances(work / "features"), read_truth(raw))
    print("\nappliance detection against the generator's truth (latest snapshot)")
    print(scores.round(3).to_string())
    print(f"  EV F1 {scores.loc['ev', 'f1']:.3f} (goal >= {GOAL_EV_F1})")
    return [
        Row(
            f"consumption profile build, {customers:,} x {days} days",
            ours,
            "s",
            reference=hand,
            reference_name="hand-written DuckDB SQL",
            ratio=hand / ours,
            goal=f">= {GOAL_SPEED_RATIO}x hand-written speed",
            met=hand / ours >= GOAL_SPEED_RATIO,
        ),
        Row(f"all {len(VIEWS)} views, {customers:,} x {days} days", elapsed, "s"),
        *(
            Row(
                f"{appliance} detection F1 vs truth",
                float(scores.loc[appliance, "f1"]),
                "F1",
                goal=f">= {GOAL_EV_F1}" if appliance == "ev" else None,
                met=bool(scores.loc[appliance, "f1"] >= GOAL_EV_F1) if appliance == "ev" else None,
            )
            for appliance in scores.index
        ),
    ]


SCALE_BLOCK_CUSTOMERS = 50_000
"""Customers generated at once: a block of one month is ~0.5 GB in memory at any size."""


def write_scale_lake(lake: Path, customers: int, days: int, seed: int) -> None:
    """Readings (random household shapes) and customers: one file per month, written in
    blocks of customers (row groups), so that memory stays bounded at 1 M customers."""
    rng = np.random.default_rng(seed)
    start = date(2024, 1, 1)
    ids = pa.array([f"S{i:08d}" for i in range(customers)], pa.string())
    frame = pd.DataFrame(
        {name: None for name in CONTRACT_SCHEMAS[Table.CUSTOMERS].names}, index=range(customers)
    )
    frame["customer_id"] = ids.to_numpy(zero_copy_only=False)
    frame["segment"], frame["region"], frame["hall_id"] = "residential", "shanghai", "H01"
    frame["tariff_id"], frame["has_app"], frame["push_consent"] = "sh-res", True, True
    frame["created_at"] = pd.Timestamp("2020-01-01", tz="UTC")
    (lake / "customers").mkdir(parents=True)
    pq.write_table(
        pa.Table.from_pandas(frame, schema=CONTRACT_SCHEMAS[Table.CUSTOMERS], preserve_index=False),
        lake / "customers" / "part-0.parquet",
    )
    schema = CONTRACT_SCHEMAS[Table.READINGS]
    shape = 0.3 + 0.4 * np.exp(-((np.arange(24) - 20) ** 2) / 8)
    day = 0
    while day < days:
        first = start + timedelta(days=day)
        month_days = min(
            (first.replace(day=28) + timedelta(days=4)).replace(day=1) - first,
            timedelta(days=days - day),
        ).days
        dates = np.arange(np.datetime64(first), np.datetime64(first) + month_days)
        folder = lake / "readings" / f"month={first:%Y-%m}"
        folder.mkdir(parents=True)
        with pq.ParquetWriter(folder / "part-0.parquet", schema) as writer:
            for low in range(0, customers, SCALE_BLOCK_CUSTOMERS):
                block = ids[low : low + SCALE_BLOCK_CUSTOMERS]
                n = len(block) * month_days
                kwh = np.round(shape[:, None] * rng.lognormal(0, 0.3, size=(24, n)), 3)
                columns = {
                    "customer_id": block.take(np.repeat(np.arange(len(block)), month_days)),
                    "date": np.tile(dates, len(block)),
                    **{c: kwh[h] for h, c in enumerate(KWH_COLUMNS)},
                    "quality": np.full(n, "actual"),
                    "max_demand_kw": np.full(n, np.nan),
                }
                writer.write_table(pa.Table.from_pydict(columns, schema=schema))
        day += month_days


def materialize_scale(settings: Settings) -> float:
    """Seconds of a full `materialize` of the built profiles into a new SQLite store."""
    store = open_store(settings)
    apply_definitions(store)
    began = time.perf_counter()
    materialize(store, settings, full=True)
    return time.perf_counter() - began


class ScaleRun:
    """The curve's points so far, recorded after every stage, so that a size the machine
    cannot finish (memory, disk, time) leaves the smaller sizes and its own finished
    stages measured."""

    def __init__(self, days: int, parameters: dict[str, Any], name: str) -> None:
        self.days = days
        self.parameters = parameters
        self.name = name
        self.points: list[dict[str, Any]] = []
        self.rows: list[Row] = []
        self._first_per_customer: dict[str, float] = {}

    def add(self, stage: str, customers: int, seconds: float, **measured: float) -> None:
        per = seconds / customers * 1000
        first = self._first_per_customer.setdefault(stage, per)
        extra = "  ".join(
            f"{k} {v:,}" if isinstance(v, int) else f"{k} {v:,.2f}" for k, v in measured.items()
        )
        print(
            f"    {stage:<20} {seconds:8.1f} s  {per:6.3f} ms/customer  "
            f"(x{per / first:.2f} of the smallest size per customer)  {extra}"
        )
        self.points.append(
            {"engine": stage, "customers": customers, "seconds": seconds, **measured}
        )
        self.rows.append(Row(f"{stage}, {customers:,} x {self.days} days", seconds, "s"))

    def record(self) -> None:
        record(self.name, self.rows, parameters=self.parameters, series={"scale": self.points})


def _bucket_progress(engine: str, began: float) -> Callable[[int, int, str], None]:
    """Prints when each bucket is written: a build cut short still shows how far it got."""

    def report(written: int, total: int, view: str) -> None:
        if written % len(VIEWS) == 0:
            elapsed = time.perf_counter() - began
            buckets = f"{written // len(VIEWS)}/{total // len(VIEWS)}"
            print(f"      {engine} wrote bucket {buckets} at {elapsed:,.0f} s", flush=True)

    return report


def _gib(n: int) -> float:
    return n / GIB


def scale_size(
    run: ScaleRun,
    customers: int,
    engines: list[str],
    seed: int,
    size_dir: Path,
    *,
    memory_limit: str | None,
    max_spill: str | None,
    bucket_customers: int,
    online: bool,
    lakes: Path | None,
) -> None:
    """Write (or reuse), build (and materialize) one size, recording each stage as it ends."""
    settings = Settings(data_dir=size_dir)
    # DuckDB's spill files go under the size's folder, so that its disk peak counts them.
    tempfile.tempdir = str(size_dir / "tmp")
    (size_dir / "tmp").mkdir(parents=True)
    kept = lakes / f"{customers}-customers-{run.days}-days-seed-{seed}" if lakes else None
    if kept and kept.exists():
        # Hard links: the lake is in the size's folder (its disk peak counts it) at no cost.
        shutil.copytree(kept, settings.lake_dir, copy_function=os.link)
        print(f"  {customers:>9,} customers: lake reused from {kept}")
    else:
        with Footprint(size_dir) as lake_fp:
            began = time.perf_counter()
            write_scale_lake(settings.lake_dir, customers, run.days, seed)
            lake_s = time.perf_counter() - began
        lake_bytes = directory_bytes(settings.lake_dir)
        print(f"  {customers:>9,} customers: lake {_gib(lake_bytes):.2f} GiB")
        run.add(
            "lake write",
            customers,
            lake_s,
            lake_gib=_gib(lake_bytes),
            peak_rss_gib=_gib(lake_fp.peak_rss),
        )
        run.record()
        if kept:
            staging = kept.with_name(f".{kept.name}")
            shutil.copytree(settings.lake_dir, staging, copy_function=os.link)
            staging.rename(kept)
    for engine in engines:
        out = size_dir / f"features-{engine}"
        runner: Engine = (
            DuckDBEngine(memory_limit=memory_limit, max_spill=max_spill)
            if engine == "duckdb"
            else SparkEngine()
        )
        try:
            with Footprint(size_dir) as fp:
                began = time.perf_counter()
                result = build_profiles(
                    settings.lake_dir,
                    out,
                    engine=runner,
                    bucket_customers=bucket_customers,
                    on_progress=_bucket_progress(engine, began),
                )
                elapsed = time.perf_counter() - began
        finally:
            runner.close()
        run.add(
            f"{engine} build",
            customers,
            elapsed,
            rows=sum(result.rows.values()),
            output_gib=_gib(directory_bytes(out)),
            peak_rss_gib=_gib(fp.peak_rss),
            peak_disk_gib=_gib(fp.peak_disk),
        )
        run.record()
    shutil.rmtree(settings.lake_dir)
    if online and "duckdb" in engines:
        (size_dir / "features-duckdb").rename(settings.offline_dir)
        with Footprint(size_dir) as fp:
            elapsed = materialize_scale(settings)
        run.add(
            "materialize (SQLite)",
            customers,
            elapsed,
            online_gib=_gib((settings.feast_dir / "online_store.db").stat().st_size),
            peak_rss_gib=_gib(fp.peak_rss),
        )
        run.record()


def scale(
    sizes: list[int],
    days: int,
    seed: int,
    engines: list[str],
    work: Path,
    *,
    memory_limit: str | None,
    max_spill: str | None,
    bucket_customers: int,
    online: bool,
    lakes: Path | None,
    parameters: dict[str, Any],
    record_as: str,
) -> None:
    """Build every view at each size (smallest first), deleting each size's files after it.

    A size whose DuckDB build runs past `memory_limit` plus `max_spill` ends the curve
    there, with the stages it finished recorded."""
    print(f"\nscale: build of all views, customers x {days} days")
    run = ScaleRun(days, parameters, record_as)
    for customers in sorted(sizes):
        size_dir = work / f"scale-{customers}"
        try:
            scale_size(
                run,
                customers,
                engines,
                seed,
                size_dir,
                memory_limit=memory_limit,
                max_spill=max_spill,
                bucket_customers=bucket_customers,
                online=online,
                lakes=lakes,
            )
        except duckdb.OutOfMemoryException as error:
            print(f"  {customers:,} customers: stopped, {str(error).splitlines()[0]}")
            break
        finally:
            tempfile.tempdir = None
            shutil.rmtree(size_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=11, help="not the demo's 7: unseen data")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--scale", default="", help="customer counts, e.g. 10000,100000,1000000")
    parser.add_argument("--scale-days", type=int, default=365)
    parser.add_argument(
        "--engines",
        default="duckdb",
        help="engines to time at each size, e.g. duckdb,spark (Spark at 1 M takes over an hour)",
    )
    parser.add_argument(
        "--bucket-customers",
        type=int,
        default=DEFAULT_BUCKET_CUSTOMERS,
        help="customers built at once (the engine's working set)",
    )
    parser.add_argument(
        "--memory-limit", help="DuckDB memory_limit for the scale builds, e.g. 12GB (it spills)"
    )
    parser.add_argument(
        "--max-spill", help="bound on DuckDB's spill files, e.g. 40GB (default: 90%% of free disk)"
    )
    parser.add_argument(
        "--materialize", action="store_true", help="also time a full materialize into SQLite"
    )
    parser.add_argument(
        "--work", type=Path, help="folder for the scale lakes (default: the temp directory)"
    )
    parser.add_argument(
        "--lakes",
        type=Path,
        help="keep each size's lake here (hard links) and reuse it when it is there: "
        "another engine timed later skips the lake write",
    )
    parser.add_argument(
        "--record-as",
        default="profiles_scale",
        help="results name of the curve, e.g. profiles_scale_spark_1m for a separate run",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-profiles-", dir=args.work) as tmp:
        work = Path(tmp)
        if not args.skip_demo:
            rows = demo(args.customers, args.days, args.seed, work / "demo")
            record("profiles", rows, parameters=vars(args))
        if args.scale:
            scale(
                [int(s) for s in args.scale.split(",")],
                args.scale_days,
                args.seed,
                args.engines.split(","),
                work,
                memory_limit=args.memory_limit,
                max_spill=args.max_spill,
                bucket_customers=args.bucket_customers,
                online=args.materialize,
                lakes=args.lakes,
                record_as=args.record_as,
                parameters={k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            )


if __name__ == "__main__":
    sys.exit(main())
