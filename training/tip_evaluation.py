"""Tips evaluation: the ranker against popularity, the saving rule and the oracle, by NDCG@k.

Test queries are customers: the tips shown to one customer from the cutoff on, every row
ranked from the snapshot before the cutoff. Scorers: LightGBM lambdarank; popularity (each
tip's acceptance rate in training); the saving rule (largest estimated yuan first, what a
utility would do); the oracle, the true acceptance probability the generator drew each
outcome from (`truth/suggestions`). NDCG on realised outcomes counts only queries with an
accepted and a not-accepted tip (others rank every scorer alike). Because those queries
are few and short, each scorer is also measured against the truth itself: every test
suggestion ranked over all the tips the truth prices for the customer, graded by the true
acceptance probability (`truth/tip_propensity`); there the oracle scores 1 by definition.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from powerhall.settings import Settings
from training.datasets import truth_table
from training.ranking import KS, ndcg_at
from training.tip_examples import (
    LABEL,
    ORACLE,
    SAVING,
    TIP,
    TIP_FEATURES,
    TipExamples,
    TipSplit,
    informative,
    tip_rows,
)

logger = logging.getLogger(__name__)


def popularity(train: pd.DataFrame) -> pd.Series:
    """Each tip's acceptance rate in training (the overall rate for a tip never shown)."""
    return train.groupby(TIP)[LABEL].mean()


def popularity_score(rates: pd.Series, tips: pd.Series, default: float) -> np.ndarray:
    return tips.map(rates).fillna(default).to_numpy(dtype=float)


def ndcg_metrics(relevance: np.ndarray, score: np.ndarray, query: np.ndarray) -> dict[str, float]:
    return {f"ndcg_at_{k}": v for k, v in ndcg_at(relevance, score, query).items()}


def truth_candidates(
    examples: TipExamples, test: pd.DataFrame, settings: Settings
) -> pd.DataFrame | None:
    """Every test suggestion against every tip the truth prices for its customer, graded by
    the true acceptance probability on the suggestion's channel; None without truth."""
    truth = truth_table(
        settings, "tip_propensity", customer_id=sorted(test["customer_id"].unique())
    )
    if truth is None:
        return None
    pairs = test[["suggestion_id", "customer_id", "channel", "position"]].merge(
        truth, on="customer_id", how="inner"
    )
    pairs = pairs[pairs[TIP].isin(examples.eligible.columns)].reset_index(drop=True)
    rows = tip_rows(
        examples.profiles,
        pairs[TIP].to_numpy(),
        examples.eligible,
        examples.savings,
        examples.features[len(TIP_FEATURES) :],
        pairs["position"].to_numpy(),
    )
    rows["suggestion_id"] = pairs["suggestion_id"]
    rows[ORACLE] = np.where(
        pairs["channel"] == "app", pairs["p_accept_app"], pairs["p_accept_counter"]
    )
    return rows


def evaluate(
    model: Callable[[pd.DataFrame], np.ndarray],
    examples: TipExamples,
    parts: TipSplit,
    settings: Settings,
) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """NDCG@k of every scorer on the realised test queries and against the truth."""
    rates = popularity(parts.train)
    overall = float(parts.train[LABEL].mean())
    scorers = {
        "lightgbm": model,
        "popularity": lambda rows: popularity_score(rates, rows[TIP], overall),
        "saving_rule": lambda rows: rows[SAVING].to_numpy(dtype=float),
        "oracle": lambda rows: rows[ORACLE].to_numpy(dtype=float),
    }
    mixed = informative(parts.test)
    counts = {
        "test_queries": int(parts.test["customer_id"].nunique()),
        "test_queries_informative": int(mixed["customer_id"].nunique()),
    }
    metrics: dict[str, dict[str, float]] = {name: {} for name in scorers}
    if mixed.empty:
        logger.warning("no test customer has both an accepted and a declined tip")
    for name, scorer in scorers.items():
        if not mixed.empty and (name != "oracle" or mixed[ORACLE].notna().all()):
            metrics[name] |= ndcg_metrics(
                mixed[LABEL].to_numpy(), scorer(mixed), mixed["customer_id"].to_numpy()
            )
    candidates = truth_candidates(examples, parts.test, settings)
    if candidates is not None and not candidates.empty:
        counts["truth_queries"] = int(candidates["suggestion_id"].nunique())
        for name, scorer in scorers.items():
            if name == "oracle":
                continue
            truth_ndcg = ndcg_metrics(
                candidates[ORACLE].to_numpy(),
                scorer(candidates),
                candidates["suggestion_id"].to_numpy(),
            )
            metrics[name] |= {f"truth_{key}": value for key, value in truth_ndcg.items()}
    if "ndcg_at_3" in metrics["oracle"]:
        metrics["lightgbm"]["ndcg_at_3_vs_oracle"] = (
            metrics["lightgbm"]["ndcg_at_3"] / metrics["oracle"]["ndcg_at_3"]
        )
    return {name: m for name, m in metrics.items() if m}, counts


def save_plots(
    metrics: Mapping[str, Mapping[str, float]], importance: Mapping[str, float], out_dir: Path
) -> list[Path]:
    """Feature importance and NDCG by k (realised and, where known, against the truth)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    ranked = sorted(importance.items(), key=lambda item: item[1])[-20:]
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(ranked) + 1))
    ax.barh([name for name, _ in ranked], [value for _, value in ranked])
    ax.set(xlabel="total gain", title="Feature importance")
    fig.tight_layout()
    written.append(out_dir / "feature_importance.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)
    for prefix, title in (("", "realised outcomes"), ("truth_", "true acceptance")):
        fig, ax = plt.subplots(figsize=(6, 4))
        for name, m in metrics.items():
            values = [m.get(f"{prefix}ndcg_at_{k}") for k in KS]
            if None not in values:
                ax.plot(KS, values, marker="o", label=name)
        if not ax.lines:
            plt.close(fig)
            continue
        ax.set(xlabel="k", ylabel="NDCG@k", title=f"NDCG by k ({title})", xticks=list(KS))
        ax.legend(fontsize=8)
        fig.tight_layout()
        written.append(out_dir / f"{prefix}ndcg_by_k.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    return written
