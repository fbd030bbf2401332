"""Profile build speed, appliance detection quality, and how the build scales.

    .venv/bin/python benchmarks/bench_profiles.py --customers 5000 --days 730
    .venv/bin/python benchmarks/bench_profiles.py --skip-demo --scale 10000,100000 --spark

Goals (issue 5):
- the consumption profile built by `features.profiles` on the demo data at >= 0.7x the
  speed of one hand-written DuckDB aggregate of the same core features at the same
  weekly snapshots (a range join of readings to snapshots: what one writes by hand);
- EV detection F1 >= 0.9 against the generator's hidden truth (heating and AC reported);
- build time for 10 k, 100 k, 1 M customers x 365 days growing about linearly (DuckDB and,
  with --spark, Spark local mode), within this machine's memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.evaluation import appliance_scores, latest_appliances, read_truth
from features.profiles import VIEWS, build_profiles
from features.profiles.catalogue import CONSUMPTION, PEAK_HOURS, VALLEY_HOURS
from powerhall.contract import CONTRACT_SCHEMAS, KWH_COLUMNS, Table
from powerhall.ingest import ingest
from powerhall.lake import read_parquet_sql
from powerhall.synthetic import generate

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


def write_scale_lake(lake: Path, customers: int, days: int, seed: int) -> None:
    """Readings (random household shapes) and customers, month by month to bound memory."""
    rng = np.random.default_rng(seed)
    start = date(2024, 1, 1)
    ids = np.array([f"S{i:08d}" for i in range(customers)])
    frame = pd.DataFrame(
        {name: None for name in CONTRACT_SCHEMAS[Table.CUSTOMERS].names}, index=range(customers)
    )
    frame["customer_id"] = ids
    frame["segment"], frame["region"], frame["hall_id"] = "residential", "shanghai", "H01"
    frame["tariff_id"], frame["has_app"], frame["push_consent"] = "sh-res", True, True
    frame["created_at"] = pd.Timestamp("2020-01-01", tz="UTC")
    (lake / "customers").mkdir(parents=True)
    pq.write_table(
        pa.Table.from_pandas(frame, schema=CONTRACT_SCHEMAS[Table.CUSTOMERS], preserve_index=False),
        lake / "customers" / "part-0.parquet",
    )
    shape = 0.3 + 0.4 * np.exp(-((np.arange(24) - 20) ** 2) / 8)
    day = 0
    while day < days:
        first = start + timedelta(days=day)
        month_days = min(
            (first.replace(day=28) + timedelta(days=4)).replace(day=1) - first,
            timedelta(days=days - day),
        ).days
        n = customers * month_days
        kwh = np.round(shape * rng.lognormal(0, 0.3, size=(n, 24)), 3)
        table = {
            "customer_id": np.repeat(ids, month_days),
            "date": np.tile(
                np.array([first + timedelta(days=i) for i in range(month_days)]), customers
            ),
            **{c: kwh[:, h] for h, c in enumerate(KWH_COLUMNS)},
            "quality": np.full(n, "actual"),
            "max_demand_kw": np.full(n, np.nan),
        }
        folder = lake / "readings" / f"month={first:%Y-%m}"
        folder.mkdir(parents=True)
        pq.write_table(
            pa.Table.from_pydict(table, schema=CONTRACT_SCHEMAS[Table.READINGS]),
            folder / "part-0.parquet",
        )
        day += month_days


def scale(sizes: list[int], days: int, seed: int, spark: bool, work: Path) -> list[dict[str, Any]]:
    """Build every view at each size; returns the curve's points."""
    print(f"\nscale: build of all views, customers x {days} days")
    engines = ["duckdb", "spark"] if spark else ["duckdb"]
    base: dict[str, float] = {}
    points: list[dict[str, Any]] = []
    for customers in sizes:
        lake = work / f"scale-{customers}" / "lake"
        began = time.perf_counter()
        write_scale_lake(lake, customers, days, seed)
        print(f"  {customers:>9,} customers: lake written in {time.perf_counter() - began:.0f} s")
        for engine in engines:
            began = time.perf_counter()
            build_profiles(lake, lake.parent / engine, engine=engine)  # type: ignore[arg-type]
            elapsed = time.perf_counter() - began
            per = elapsed / customers * 1000
            base.setdefault(engine, per)
            points.append({"engine": engine, "customers": customers, "seconds": elapsed})
            print(
                f"    {engine:<7} {elapsed:7.1f} s  {per:6.2f} ms/customer  "
                f"(x{per / base[engine]:.2f} of the smallest size per customer)"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS of this process {peak:,.0f} MiB (DuckDB runs in-process; Spark in its JVM)")
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=11, help="not the demo's 7: unseen data")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--scale", default="", help="customer counts, e.g. 10000,100000,1000000")
    parser.add_argument("--scale-days", type=int, default=365)
    parser.add_argument("--spark", action="store_true", help="also time the Spark engine")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-profiles-") as tmp:
        work = Path(tmp)
        if not args.skip_demo:
            rows = demo(args.customers, args.days, args.seed, work / "demo")
            record("profiles", rows, parameters=vars(args))
        if args.scale:
            sizes = [int(s) for s in args.scale.split(",")]
            points = scale(sizes, args.scale_days, args.seed, args.spark, work)
            rows = [
                Row(
                    f"{p['engine']} build, {p['customers']:,} x {args.scale_days} days",
                    p["seconds"],
                    "s",
                )
                for p in points
            ]
            record("profiles_scale", rows, parameters=vars(args), series={"scale": points})


if __name__ == "__main__":
    sys.exit(main())
