"""How close any complaint model can get to the oracle: the ceiling of the observable data.

    .venv/bin/python benchmarks/complaint_ceiling.py --data data

The oracle (`truth/complaint_daily`) knows each customer's hidden complaint proneness. A
model sees only its traces: the customer's own complaints, set against how much hazard the
customer was exposed to. On the complaint model's test rows this prints the AUC of

- the oracle, of proneness alone and of the bad experiences alone (proneness 1);
- the observable ceiling: the Bayes posterior of each customer's proneness from their
  complaints before the snapshot and their exposure (prior: the proneness of all the
  generated customers), times the exact traces of their experiences. Both come from the
  truth, so no model of the data can beat it by more than noise;
- the same ceiling were the data longer (complaints drawn for 5 and 20 years of the same
  exposure per day): how much history the 0.95× goal would need.

Needs a generated lake with its truth and built profiles (`make pipeline`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from powerhall.settings import Settings
from training import complaint
from training.datasets import LABEL, ORACLE, SNAPSHOT, build_examples, temporal_split

from results import Row, record

GOAL = 0.95
LONGER_YEARS = (5, 20)
PRIOR_BINS = 400
CEILING = "observable ceiling (Bayes, truth's traces)"


def exposure(settings: Settings) -> pd.DataFrame:
    """Per customer-day of the truth: proneness, complaints and hazard at proneness 1 before
    the day (`k`, `E`), and the next 30 days' hazard at proneness 1 the oracle expects (`U`)."""
    truth_dir = settings.raw_dir / "truth"
    daily = pd.read_parquet(truth_dir / "complaint_daily")
    traits = pd.read_parquet(
        truth_dir / "customers", columns=["customer_id", "complaint_proneness"]
    )
    daily = daily.merge(traits, on="customer_id").sort_values(["customer_id", "date"])
    proneness = daily["complaint_proneness"].to_numpy()
    unit = daily["complaint_hazard"].to_numpy(float) / proneness
    by_customer = daily["customer_id"].to_numpy()
    complained = daily["complained"].to_numpy(int)
    prob = np.clip(daily["complaint_prob_30d"].to_numpy(float), 0, 1 - 1e-9)
    return pd.DataFrame(
        {
            "customer_id": by_customer,
            "date": pd.to_datetime(daily["date"]),
            "proneness": proneness,
            "E": pd.Series(unit).groupby(by_customer).cumsum().to_numpy() - unit,
            "k": pd.Series(complained).groupby(by_customer).cumsum().to_numpy() - complained,
            "U": -np.log1p(-prob) / proneness,
        }
    )


def posterior_risk(
    k: np.ndarray, e: np.ndarray, u: np.ndarray, grid: np.ndarray, prior: np.ndarray
) -> np.ndarray:
    """P(a complaint in the window) when proneness is only known through `k` complaints
    over exposure `e` (Poisson likelihood on the prior's grid) and the window's hazard at
    proneness 1 is `u`."""
    log_w = k[:, None] * np.log(grid) - e[:, None] * grid + np.log(prior)
    weights = np.exp(log_w - log_w.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    return (weights * -np.expm1(-grid[None, :] * u[:, None])).sum(axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data"), help="data directory")
    parser.add_argument("--seed", type=int, default=7, help="draws of the longer histories")
    args = parser.parse_args()
    settings = Settings(data_dir=args.data)
    examples = build_examples(complaint.SPEC.task, settings)
    test = temporal_split(examples, complaint.HORIZON_DAYS).test
    truth = exposure(settings).set_index(["customer_id", "date"])
    at = truth.reindex(pd.MultiIndex.from_arrays([test["customer_id"], test[SNAPSHOT]]))
    k, e, u, proneness = (at[c].to_numpy() for c in ("k", "E", "U", "proneness"))
    y = test[LABEL].to_numpy()
    counts, edges = np.histogram(np.log(truth.groupby(level=0)["proneness"].first()), PRIOR_BINS)
    grid, prior = np.exp((edges[:-1] + edges[1:]) / 2), (counts + 1e-9) / counts.sum()
    observed_days = np.minimum(
        test["tenure_days"].to_numpy(),
        (test[SNAPSHOT] - pd.Timestamp(examples.data_start)).dt.days.to_numpy(),
    )
    rng = np.random.default_rng(args.seed)
    scores = {
        "oracle": test[ORACLE].to_numpy(),
        "proneness alone": proneness,
        "bad experiences alone (proneness 1)": u,
        CEILING: posterior_risk(k, e, u, grid, prior),
    }
    for years in LONGER_YEARS:
        longer = e * years * 365 / np.maximum(observed_days, 1)
        scores[f"observable ceiling with {years} years of history"] = posterior_risk(
            rng.poisson(proneness * longer), longer, u, grid, prior
        )
    auc = {name: float(roc_auc_score(y, score)) for name, score in scores.items()}
    oracle = auc["oracle"]
    print(
        f"{len(test):,} test rows, {int(y.sum())} complaints; {np.mean(k == 0):.0%} of rows "
        f"without an earlier complaint in {observed_days.mean():.0f} days of data on average"
    )
    print(f"{'scorer':46} {'AUC':>6} {'x oracle':>9}")
    for name, value in auc.items():
        print(f"{name:46} {value:6.3f} {value / oracle:9.3f}")
    record(
        "complaint_ceiling",
        [
            Row(
                what=f"complaint AUC, {name}",
                ours=value,
                unit="AUC",
                reference=oracle,
                reference_name="oracle",
                ratio=value / oracle,
                goal=f">= {GOAL}x oracle (the model's goal)" if name == CEILING else None,
                met=value / oracle >= GOAL if name == CEILING else None,
            )
            for name, value in auc.items()
            if name != "oracle"
        ],
        parameters={
            "data": str(args.data),
            "test_rows": len(test),
            "complaints": int(y.sum()),
            "rows_without_earlier_complaint": float(np.mean(k == 0)),
            "observed_days_mean": float(observed_days.mean()),
        },
    )


if __name__ == "__main__":
    main()
