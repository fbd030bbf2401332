"""Batch tariff advice (the tariff part of `powerhall score`): customers advised per second.

    .venv/bin/python benchmarks/bench_tariff_advice.py --data data

Every active customer of the lake is advised as `powerhall score` does it
(`training.tariff_score.tariff_advice`: read the last 455 days of readings, summarise
them, forecast the next year, bill it under every eligible tariff at P10, P50 and P90,
rank the candidates by acceptance). Reference, measured in the same run: the bare lake
read of the same readings, the floor of any advice from the lake. CPU seconds are shown
beside wall seconds: on a shared machine they say more about the code than the clock.

The acceptance model is fitted on random rows (its quality does not change the work);
profile features are left missing, as for a customer without a profile.
Without a lake under --data, one is generated and ingested first (minutes).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from bench_tariff_simulate import ensure_lake

from powerhall.contract import Table
from powerhall.lake import read_table
from powerhall.settings import Settings
from training.datasets import data_bounds
from training.tariff_acceptance import DRIVERS, PROFILE_FEATURES, AcceptanceModel
from training.tariff_data import readings_before
from training.tariff_options import Band
from training.tariff_score import scoring_cutoff, tariff_advice

from results import Row, record


def acceptance_model(seed: int) -> AcceptanceModel:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.gamma(2.0, 1.0, (4000, len(DRIVERS))), columns=list(DRIVERS))
    labels = (rng.random(len(frame)) < 1 / (1 + np.exp(2 - frame["saving_cny"]))).astype(int)
    band = Band(low={"": 0.9}, high={"": 1.1})
    half = len(frame) // 2
    return AcceptanceModel.fit(
        frame[:half], labels[:half], frame[half:], labels[half:], band=band, seed=seed
    )


def timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    """`work()`, its wall seconds and its CPU seconds (every thread of the process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data"), help="data directory")
    parser.add_argument("--generate", type=int, default=2000, help="customers if no lake")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    settings = Settings(data_dir=ensure_lake(args.data, args.generate, args.seed))
    customers = read_table(settings.lake_dir, Table.CUSTOMERS, columns=["customer_id", "closed_at"])
    profiles = pd.DataFrame(
        {"customer_id": customers.loc[customers["closed_at"].isna(), "customer_id"]}
    )
    profiles = profiles.assign(**{name: np.nan for name in PROFILE_FEATURES})
    model = acceptance_model(args.seed)
    cutoff = scoring_cutoff(data_bounds(settings.lake_dir)[1])
    readings, read_wall, read_cpu = timed(lambda: readings_before(settings, cutoff))
    advice, wall, cpu = timed(lambda: tariff_advice(profiles, model, settings))
    n = len(profiles)
    answers = advice["tariff_advice"].value_counts().to_dict()
    print(f"{n:,} customers ({answers}); {len(readings):,} reading rows before {cutoff}")
    print(f"{'':24} {'wall s':>8} {'per s':>8} {'CPU s':>8} {'per CPU s':>10}")
    for name, w, c in (("tariff advice", wall, cpu), ("lake read (floor)", read_wall, read_cpu)):
        print(f"{name:24} {w:8.1f} {n / w:8.0f} {c:8.1f} {n / c:10.0f}")
    clocks = (("second", "s", wall, read_wall), ("CPU second", "CPU s", cpu, read_cpu))
    rows = [
        Row(
            what=f"tariff advice of {n:,} customers, customers per {clock}",
            ours=n / ours,
            unit=f"customers/{unit}",
            reference=n / floor,
            reference_name="the bare lake read of their readings",
            ratio=floor / ours,
        )
        for clock, unit, ours, floor in clocks
    ]
    parameters = {"customers": n, "cutoff": cutoff.isoformat(), "answers": answers}
    record("tariff_advice", rows, parameters=parameters)


if __name__ == "__main__":
    main()
