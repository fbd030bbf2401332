"""Speed and memory of `powerhall generate`: customer-days per second and peak RSS.

    .venv/bin/python benchmarks/bench_generate.py --customers 5000 --days 730

The goal (issue 3) is 5,000 customers x 730 days, the whole pipeline (readings, bills by
the tariff engine, events, truth, Parquet), in at most 60 s on the 2-core reference
machine. Peak RSS should stay flat as --customers grows (chunked generation).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from powerhall.synthetic import DEFAULT_CHUNK_SIZE, generate

from results import Row, record

GOAL_SECONDS_5000_X_730 = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary directory")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-generate-") as tmp:
        out = args.out or Path(tmp) / "raw"
        began = time.perf_counter()
        manifest = generate(
            customers=args.customers,
            days=args.days,
            seed=args.seed,
            out=out,
            chunk_size=args.chunk_size,
        )
        elapsed = time.perf_counter() - began
        size = sum(f.stat().st_size for f in out.rglob("*.parquet"))

    customer_days = args.customers * args.days
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    budget = GOAL_SECONDS_5000_X_730 * customer_days / (5000 * 730)
    print(f"customers x days     {args.customers} x {args.days} (chunk {args.chunk_size})")
    print(f"elapsed              {elapsed:.1f} s")
    print(f"customer-days/s      {customer_days / elapsed:,.0f}")
    print(f"readings rows        {manifest['rows']['readings']:,}")
    print(f"parquet written      {size / 2**20:,.0f} MiB")
    print(f"peak RSS             {peak_rss_mib:,.0f} MiB")
    print(f"time / goal          {elapsed / budget:.2f} (goal <= 1.00: 60 s per 5000 x 730)")
    record(
        "generate",
        [
            Row(
                f"generate {args.customers:,} x {args.days} days",
                elapsed,
                "s",
                reference=budget,
                reference_name="budget (60 s per 5,000 x 730)",
                ratio=elapsed / budget,
                goal="<= 1.0x budget",
                met=elapsed <= budget,
            ),
            Row("customer-days per second", customer_days / elapsed, "1/s"),
            Row("peak RSS", peak_rss_mib, "MiB"),
        ],
        parameters=vars(args) | {"out": str(args.out)},
    )


if __name__ == "__main__":
    sys.exit(main())
