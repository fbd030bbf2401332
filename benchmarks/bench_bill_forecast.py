"""The bill forecast against what happened, and how fast the batch makes it.

Evaluates `training.bill_evaluation` on a generated world: the month's bill forecast on
the 10th and on the 20th of each of the last billed months, by the forecast and by two
naive methods (the month-to-date run rate; last year's same days scaled by this month's
use so far), all billed by the same tariff engine, against the customers' actual bills.
Prints MAPE, median APE, bias, P10-P90 coverage, tier crossings found and their error in
days, and the bill alert's precision and recall; then times the batch forecast of every
customer (`training.bill_score.bill_forecasts`) on the same lake.

    .venv/bin/python benchmarks/bench_bill_forecast.py --customers 2000 --days 730
    .venv/bin/python benchmarks/bench_bill_forecast.py --data /path/to/data   # an ingested lake
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from powerhall.contract import Table
from powerhall.ingest import ingest
from powerhall.lake import read_table
from powerhall.settings import Settings
from powerhall.synthetic import generate
from training.bill_evaluation import evaluate
from training.bill_score import bill_forecasts

from results import Row, record

NAIVE = {"run_rate": "month-to-date run rate", "last_year": "last year's days, scaled"}
COVERAGE_GOAL = (0.7, 0.9)
"""A P10-P90 band should hold about 80 % of the actual bills."""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="an existing data directory (lake ingested)")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--months", type=int, default=12, help="last billed months evaluated")
    return parser.parse_args()


def run(settings: Settings, args: argparse.Namespace, parameters: dict[str, object]) -> None:
    start = time.perf_counter()
    evaluation = evaluate(settings, months=args.months)
    evaluated = time.perf_counter() - start
    summary = evaluation.summary.set_index(["day", "method"])
    pd.set_option("display.width", 200)
    print(f"months {evaluation.months[0]} .. {evaluation.months[-1]}, {evaluated:.0f} s")
    print(summary.round(3).to_string())

    customers = read_table(settings.lake_dir, Table.CUSTOMERS, columns=["customer_id"])
    start = time.perf_counter()
    batch = bill_forecasts(customers, settings)
    batch_s = time.perf_counter() - start
    made = int((batch["reason"] == "").sum())
    print(f"batch forecast: {len(batch):,} customers ({made:,} forecast) in {batch_s:.1f} s")

    rows = []
    for day in sorted({d for d, _ in summary.index}):
        ours = summary.loc[(day, "recent")]
        naive = {name: summary.loc[(day, name), "mape_pct"] for name in NAIVE}
        best = min(naive, key=naive.__getitem__)
        rows.append(
            Row(
                f"bill MAPE, forecast on day {day} ({int(ours['bills']):,} bills)",
                float(ours["mape_pct"]),
                "%",
                reference=float(naive[best]),
                reference_name=f"best naive: {NAIVE[best]}",
                ratio=float(ours["mape_pct"] / naive[best]),
                goal="below both naive methods",
                met=bool(all(ours["mape_pct"] < m for m in naive.values())),
            )
        )
        coverage = float(ours["band_coverage"])
        rows.append(
            Row(
                f"P10-P90 band holds the actual bill, day {day}",
                coverage,
                "share",
                goal=f"{COVERAGE_GOAL[0]}-{COVERAGE_GOAL[1]}",
                met=COVERAGE_GOAL[0] <= coverage <= COVERAGE_GOAL[1],
            )
        )
        rows.append(
            Row(
                f"tier crossings of the month found, day {day} ({int(ours['crossings'])})",
                float(ours["crossings_found"]),
                "share",
            )
        )
        rows.append(
            Row(f"tier crossing day error, day {day}", float(ours["crossing_mae_days"]), "days")
        )
        rows.append(
            Row(
                f"bill alert precision, day {day} ({int(ours['shocks'])} shocks)",
                float(ours["alert_precision"]),
                "share",
            )
        )
        rows.append(Row(f"bill alert recall, day {day}", float(ours["alert_recall"]), "share"))
    rows.append(
        Row("batch bill forecast", len(batch) / batch_s, "customers/s", goal=None, met=None)
    )
    print()
    for row in rows:
        ratio = "" if row.ratio is None else f"  ({row.ratio:.2f}x {row.reference_name})"
        print(f"{row.what:<60} {row.ours:>10.3f} {row.unit}{ratio}")
    record("bill_forecast", rows, parameters=parameters | {"months": list(evaluation.months)})


def main() -> None:
    args = parse_args()
    if args.data is not None:
        run(Settings(data_dir=args.data), args, {"data": str(args.data)})
        return
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        generate(customers=args.customers, days=args.days, seed=args.seed, out=settings.raw_dir)
        ingest(settings.raw_dir, settings.lake_dir, settings.quarantine_dir)
        parameters = {"customers": args.customers, "days": args.days, "seed": args.seed}
        run(settings, args, parameters)


if __name__ == "__main__":
    main()
