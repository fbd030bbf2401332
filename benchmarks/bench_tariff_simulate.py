"""The tariff what-if at the counter: p50 of POST /v1/tariffs/simulate for one customer.

    .venv/bin/python benchmarks/bench_tariff_simulate.py --data data --customers 30

Timed in process through the API (TestClient: key check, directory, online profile,
audit row), for customers drawn from the lake:
- first answer: the panel opens for a customer; their year of readings is read from the
  lake, forecast and billed under every eligible tariff, now and with the shift;
- share change: staff press another share; the summarised readings and the bills "now"
  are kept, only the shifted forecast is billed again.

References, measured in the same run on the same customers: the bare lake read of the
customer's readings (`TariffSimulator.read`, the floor of any answer from the lake) and
one P50 `bill_forecasts` of their eligible tariffs (the floor of a share change). Goals:
a first answer within a second (DESIGN: the counter screen answers within a second), a
share change within 0.2 s.

Without a lake under --data, one of --generate customers x 730 days is generated and
ingested into a temporary directory first (minutes).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient

from powerhall import synthetic
from powerhall.contract import Table
from powerhall.ingest import ingest
from powerhall.lake import has_data, read_table
from powerhall.settings import Settings
from powerhall.tariffs import load_catalogue
from serving.auth import Role, create_key
from serving.db.engine import make_engine, session_factory
from serving.db.migrate import upgrade
from serving.directory import sync_customers
from serving.main import create_app
from serving.tariffs.simulator import Terms
from training.tariff_options import bill_forecasts

from results import Row, record

SHARES = (0.25, 0.5, 0.75, 1.0)
GOAL_FIRST_MS = 1000.0
GOAL_CHANGE_MS = 200.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data"), help="data directory")
    parser.add_argument("--customers", type=int, default=30, help="customers timed")
    parser.add_argument("--generate", type=int, default=1000, help="customers if no lake")
    parser.add_argument("--tracking-uri", default=None, help="MLflow registry (champion band)")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def ensure_lake(data: Path, customers: int, seed: int) -> Path:
    """`data` when it holds a lake, else a freshly generated and ingested one."""
    if has_data(data / "lake", Table.READINGS):
        return data
    fresh = Path(tempfile.mkdtemp(prefix="bench-simulate-"))
    print(f"no lake under {data}: generating {customers:,} customers x 730 days in {fresh}")
    synthetic.generate(customers=customers, days=730, seed=seed, out=fresh / "raw")
    ingest(fresh / "raw", fresh / "lake", fresh / "quarantine")
    return fresh


def service(data: Path, workdir: Path) -> tuple[Settings, str]:
    """Settings on `data` with a fresh service database (directory synced) and an admin key."""
    settings = Settings(data_dir=data, database_url=f"sqlite:///{workdir / 'service.db'}")
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        sync_customers(session, settings.lake_dir)
        _, token = create_key(
            session, role=Role.ADMIN, name="bench", hall_id=None, now=datetime.now(UTC)
        )
    engine.dispose()
    return settings, token


def p50_ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


def main() -> None:
    args = parse_args()
    data = ensure_lake(args.data, args.generate, args.seed)
    customers = read_table(data / "lake", Table.CUSTOMERS)
    rng = np.random.default_rng(args.seed)
    chosen = customers.iloc[rng.choice(len(customers), args.customers, replace=False)]
    catalogue = load_catalogue()
    first, change, reads, bills = [], [], [], []
    with tempfile.TemporaryDirectory() as workdir:
        settings, token = service(data, Path(workdir))
        app = create_app(settings, tracking_uri=args.tracking_uri)
        headers = {"X-API-Key": token}
        with TestClient(app) as client:
            simulator = app.state.tariff_simulator
            for row in chosen.itertuples():
                url, body = "/v1/tariffs/simulate", {"customer_id": row.customer_id}
                started = time.perf_counter()
                response = client.post(url, json=body, headers=headers)
                first.append(time.perf_counter() - started)
                response.raise_for_status()
                for share in SHARES:
                    shift = {"evening_share": share, "ev_share": share}
                    started = time.perf_counter()
                    client.post(url, json=body | {"shift": shift}, headers=headers)
                    change.append(time.perf_counter() - started)

                started = time.perf_counter()
                simulator.read(row.customer_id)
                reads.append(time.perf_counter() - started)
                prepared = simulator.lake_readings(row.customer_id)
                if prepared is None or prepared.history.missing_data()[0]:
                    continue
                capacity = row.contract_capacity_kva
                terms = Terms(
                    row.customer_id,
                    row.segment,
                    row.region,
                    row.tariff_id,
                    None if pd.isna(capacity) else float(capacity),
                )
                pairs = pd.DataFrame(
                    {
                        "customer_id": row.customer_id,
                        "tariff_id": [t.id for t in simulator.tariffs(terms)],
                    }
                )
                started = time.perf_counter()
                bill_forecasts(
                    prepared.history,
                    pd.DataFrame([asdict(terms)]),
                    catalogue,
                    {"p50": np.ones(1)},
                    pairs=pairs,
                )
                bills.append(time.perf_counter() - started)

    rows = [
        Row(
            "simulate, first answer for a customer (p50)",
            p50_ms(first),
            "ms",
            reference=p50_ms(reads),
            reference_name="bare lake read of the customer's readings",
            ratio=p50_ms(first) / p50_ms(reads),
            goal=f"<= {GOAL_FIRST_MS:g} ms",
            met=p50_ms(first) <= GOAL_FIRST_MS,
        ),
        Row(
            "simulate, share change (p50)",
            p50_ms(change),
            "ms",
            reference=p50_ms(bills),
            reference_name="one P50 bill_forecasts of the eligible tariffs",
            ratio=p50_ms(change) / p50_ms(bills),
            goal=f"<= {GOAL_CHANGE_MS:g} ms",
            met=p50_ms(change) <= GOAL_CHANGE_MS,
        ),
    ]
    n_customers = len(customers)
    print(f"{args.customers} customers of a lake of {n_customers:,} ({data})")
    print(f"{'what':<46}{'p50 ms':>9}{'p90 ms':>9}{'ref p50':>9}{'x ref':>7}  goal")
    for measured, samples in zip(rows, (first, change), strict=True):
        p90 = float(np.quantile(samples, 0.9)) * 1000
        print(
            f"{measured.what:<46}{measured.ours:>9.1f}{p90:>9.1f}{measured.reference:>9.1f}"
            f"{measured.ratio:>7.2f}  {measured.goal} ({'met' if measured.met else 'NOT met'})"
        )
    record(
        "tariff_simulate",
        rows,
        parameters=vars(args) | {"data": str(data), "lake_customers": n_customers},
    )


if __name__ == "__main__":
    main()
