"""Batch scoring throughput: customers scored per second, inference, reasons and the write.

    .venv/bin/python benchmarks/bench_score.py --sizes 10000 100000 1000000

Goal (issue 6): 1 million customers in at most 60 seconds on this machine. Two champions
(churn on the C&I share, complaint on everyone), each a calibrated LightGBM with the
training parameters of `training.model`, fitted on synthetic profile rows with as many
features as the real profiles; the scores view's Parquet file is written at each size.
The features are named after the phrased profile features, so that reason codes are
computed (SHAP) for every customer above the segment median, the worst case.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from powerhall.contract import Segment
from powerhall.settings import Settings
from training.model import RiskModel
from training.reasons import PHRASES
from training.score import Champion, reason_frame, score_frame, write_scores

from results import Row, record

FEATURES = 70
GOAL_CUSTOMERS = 1_000_000
GOAL_SECONDS = 60.0


def profile_rows(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = rng.gamma(2.0, 1.0, (rows, FEATURES))
    values[rng.random((rows, FEATURES)) < 0.05] = np.nan
    names = [*PHRASES, *(f"f{j:02d}" for j in range(FEATURES))][:FEATURES]
    frame = pd.DataFrame(values, columns=names)
    frame.insert(0, "customer_id", [f"C{i:07d}" for i in range(rows)])
    frame.insert(1, "segment", rng.choice([str(s) for s in Segment], rows, p=[0.85, 0.1, 0.05]))
    return frame


def fitted_model(seed: int) -> RiskModel:
    frame = profile_rows(40_000, seed)
    features = tuple(frame.columns[2:])
    x = frame[list(features)].fillna(0).to_numpy()
    logit = -3 + x[:, 0] - 0.5 * x[:, 1] + 0.3 * x[:, 2] * x[:, 3]
    labels = (np.random.default_rng(seed).random(len(frame)) < 1 / (1 + np.exp(-logit))).astype(int)
    half = len(frame) // 2
    return RiskModel.fit(
        features, frame[:half], labels[:half], frame[half:], labels[half:], seed=seed
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = parser.parse_args()
    champions = [
        Champion("churn", "1", fitted_model(1), (Segment.COMMERCIAL, Segment.INDUSTRIAL)),
        Champion("complaint", "1", fitted_model(2), tuple(Segment)),
    ]
    quantile = Settings().reasons_above_quantile
    print(
        f"{'customers':>10} {'inference s':>12} {'reasons s':>10} {'write s':>8} "
        f"{'total s':>8} {'per s':>10}"
    )
    rates = {}
    points: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            frame = profile_rows(size, seed=size)
            start = time.perf_counter()
            scores = score_frame(frame, champions)
            scored = time.perf_counter()
            reasons = reason_frame(frame, champions, scores, quantile=quantile)
            explained = time.perf_counter()
            write_scores(
                Path(tmp) / str(size),
                frame["customer_id"],
                scores,
                {c.name: c.version for c in champions},
                datetime.now(UTC),
                reasons,
            )
            end = time.perf_counter()
            rates[size] = size / (end - start)
            points.append(
                {
                    "customers": size,
                    "inference_s": scored - start,
                    "reasons_s": explained - scored,
                    "write_s": end - explained,
                    "seconds": end - start,
                }
            )
            print(
                f"{size:>10,} {scored - start:>12.2f} {explained - scored:>10.2f} "
                f"{end - explained:>8.2f} {end - start:>8.2f} {rates[size]:>10,.0f}"
            )
    largest = max(rates)
    projected = GOAL_CUSTOMERS / rates[largest]
    print(
        f"1M customers: {projected:.1f} s (from the {largest:,} run), "
        f"goal <= {GOAL_SECONDS:.0f} s: "
        f"{'met' if projected <= GOAL_SECONDS else 'NOT met'}"
    )
    record(
        "score",
        [
            Row(
                f"batch risk scoring (with reasons), 1 M customers from the {largest:,} run",
                projected,
                "s",
                goal=f"<= {GOAL_SECONDS:.0f} s",
                met=projected <= GOAL_SECONDS,
            ),
            *(
                Row(f"batch scoring, {p['customers']:,} customers", p["seconds"], "s")
                for p in points
            ),
        ],
        parameters=vars(args),
        series={"scale": points},
    )


if __name__ == "__main__":
    main()
