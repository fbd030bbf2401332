"""How fast the tariff engine bills, against a NumPy lower bound on the same data.

Makes synthetic hourly readings (customers x days, in the readings contract form), lays
them out once (`HourlyReadings`), bills them under every shipped tariff, and prints
customer-years billed per second and the ratio to `kWh matrix @ price-per-hour vector`,
which no bill engine can beat (it ignores tiers, months and rounding).

    .venv/bin/python benchmarks/bench_tariff_engine.py --customers 5000 --days 365
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from powerhall.contract import KWH_COLUMNS
from powerhall.tariffs import HourlyReadings, bill, bill_by_month, load_catalogue

from results import Row, record


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--start", default="2025-01-01", help="first reading day")
    parser.add_argument("--missing", type=float, default=0.01, help="share of null hours")
    parser.add_argument("--repeat", type=int, default=3, help="best of N timings")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def synthetic_readings(args: argparse.Namespace) -> pd.DataFrame:
    """Daily two-peak load shapes scaled per customer, with noise and missing hours."""
    rng = np.random.default_rng(args.seed)
    hours = np.arange(24)
    shape = 0.3 + np.exp(-((hours - 8) ** 2) / 6) + 1.5 * np.exp(-((hours - 20) ** 2) / 8)
    scale = rng.lognormal(mean=np.log(0.25), sigma=0.6, size=args.customers)
    rows = args.customers * args.days
    kwh = np.repeat(scale, args.days)[:, None] * shape * rng.gamma(4.0, 0.25, size=(rows, 24))
    kwh[rng.random((rows, 24)) < args.missing] = np.nan
    frame = pd.DataFrame(kwh, columns=list(KWH_COLUMNS))
    frame.insert(0, "date", np.tile(pd.date_range(args.start, periods=args.days), args.customers))
    ids = np.array([f"C{i:07d}" for i in range(args.customers)])
    frame.insert(0, "customer_id", np.repeat(ids, args.days))
    return frame


def best_of(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    args = parse_args()
    frame = synthetic_readings(args)
    catalogue = list(load_catalogue())
    capacity = pd.Series(100.0, index=frame["customer_id"].unique())
    customer_years = args.customers * args.days / 365

    start = time.perf_counter()
    hourly = HourlyReadings.from_frame(frame)
    layout = time.perf_counter() - start
    start = time.perf_counter()
    _ = hourly.month_hour_kwh  # computed once, reused by every tariff without tiers
    month_sums = time.perf_counter() - start
    prices = np.linspace(0.3, 0.9, 24)
    lower_bound = best_of(args.repeat, lambda: hourly.kwh @ prices)

    print(f"{args.customers:,} customers x {args.days} days = {customer_years:,.0f} customer-years")
    print(f"layout once (validate, sort, gaps, missing hours): {layout:.2f} s")
    print(f"kWh per customer-month and hour, once, shared by all tariffs: {month_sums:.3f} s")
    print(f"lower bound kWh @ price vector: {lower_bound * 1000:.1f} ms")
    print()
    print(f"{'tariff':<24}{'monthly s':>10}{'cust-yr/s':>12}{'x bound':>9}{'itemised s':>12}")
    monthly_total = itemised_total = 0.0
    for tariff in catalogue:
        monthly = best_of(
            args.repeat,
            lambda t=tariff: bill_by_month(t, hourly, contract_capacity_kva=capacity),
        )
        itemised = best_of(1, lambda t=tariff: bill(t, hourly, contract_capacity_kva=capacity))
        monthly_total += monthly
        itemised_total += itemised
        print(
            f"{tariff.id:<24}{monthly:>10.3f}{customer_years / monthly:>12,.0f}"
            f"{monthly / lower_bound:>9.1f}{itemised:>12.3f}"
        )
    n = len(catalogue)
    print()
    print(
        f"all {n} tariffs, monthly bills: {monthly_total:.2f} s, "
        f"{customer_years * n / monthly_total:,.0f} customer-years/s, "
        f"{monthly_total / (n * lower_bound):.1f}x the lower bound"
    )
    print(
        f"all {n} tariffs, itemised Bill objects: {itemised_total:.2f} s, "
        f"{customer_years * n / itemised_total:,.0f} customer-years/s"
    )
    overall = layout + month_sums + monthly_total
    print(f"from the DataFrame, every tariff's monthly bills: {overall:.2f} s")
    record(
        "tariff_engine",
        [
            Row(
                f"monthly bills, {customer_years:,.0f} customer-years x {n} tariffs",
                monthly_total,
                "s",
                reference=n * lower_bound,
                reference_name="bare kWh @ price dot product",
                ratio=monthly_total / (n * lower_bound),
            ),
            Row("from the DataFrame, every tariff's monthly bills", overall, "s"),
        ],
        parameters=vars(args),
    )


if __name__ == "__main__":
    main()
