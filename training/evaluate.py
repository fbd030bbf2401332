"""Held-out metrics and plots shared by every risk model.

Expected calibration error uses 10 equal-frequency bins (deciles of the predicted
probability): with rare positives, equal-width bins leave the upper bins nearly empty
and the estimate is dominated by a handful of rows. ECE is the row-weighted mean of
|mean predicted - observed rate| over the bins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from powerhall.errors import PowerhallError

CALIBRATION_BINS: Final = 10
TOP_FRACTION: Final = 0.1


def _checked(y_true: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=int)
    p = np.asarray(score, dtype=float)
    if y.shape != p.shape:
        raise PowerhallError(f"labels {y.shape} and scores {p.shape} differ in shape")
    if len(np.unique(y)) < 2:
        raise PowerhallError("the test window holds only one class: widen it or move the cutoff")
    return y, p


def expected_calibration_error(
    y_true: np.ndarray, probability: np.ndarray, bins: int = CALIBRATION_BINS
) -> float:
    y, p = _checked(y_true, probability)
    order = np.argsort(p, kind="stable")
    return float(
        sum(
            len(part) * abs(p[part].mean() - y[part].mean())
            for part in np.array_split(order, bins)
            if len(part)
        )
        / len(y)
    )


def lift_at_top(y_true: np.ndarray, score: np.ndarray, fraction: float = TOP_FRACTION) -> float:
    """Positive rate among the top `fraction` by score over the overall positive rate."""
    y, p = _checked(y_true, score)
    top = np.argsort(-p, kind="stable")[: max(1, round(fraction * len(y)))]
    return float(y[top].mean() / y.mean())


def classification_metrics(y_true: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """AUC, PR-AUC, Brier, ECE and top-decile lift of one scorer on one test window."""
    y, p = _checked(y_true, score)
    return {
        "auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, np.clip(p, 0, 1))),
        "ece": expected_calibration_error(y, np.clip(p, 0, 1)),
        "lift_top_decile": lift_at_top(y, p),
    }


def save_plots(
    y_true: np.ndarray,
    scores: Mapping[str, np.ndarray],
    *,
    importance: Mapping[str, float],
    contributions: np.ndarray,
    feature_values: np.ndarray,
    feature_names: Sequence[str],
    out_dir: Path,
) -> list[Path]:
    """ROC, calibration, lift, feature-importance and SHAP-summary plots as PNG files.

    `contributions` are LightGBM's `pred_contrib` values (rows x features, no bias
    column): exact TreeSHAP values, so the summary needs no `shap` dependency.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import roc_curve

    y = np.asarray(y_true, dtype=int)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def _save(fig: plt.Figure, name: str) -> None:
        path = out_dir / name
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    fig, ax = plt.subplots(figsize=(5, 5))
    for label, score in scores.items():
        fpr, tpr, _ = roc_curve(y, score)
        ax.plot(fpr, tpr, label=f"{label} (AUC {roc_auc_score(y, score):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    ax.legend(loc="lower right", fontsize=8)
    _save(fig, "roc.png")

    fig, ax = plt.subplots(figsize=(5, 5))
    for label, score in scores.items():
        observed, predicted = calibration_curve(
            y, np.clip(score, 0, 1), n_bins=CALIBRATION_BINS, strategy="quantile"
        )
        ax.plot(predicted, observed, marker="o", label=label)
    top = max(float(np.max(np.clip(s, 0, 1))) for s in scores.values())
    ax.plot([0, top], [0, top], color="grey", linestyle=":")
    ax.set(xlabel="mean predicted probability", ylabel="observed rate", title="Calibration")
    ax.legend(fontsize=8)
    _save(fig, "calibration.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    fractions = np.linspace(0.01, 1, 100)
    for label, score in scores.items():
        ax.plot(fractions, [lift_at_top(y, score, f) for f in fractions], label=label)
    ax.axhline(1, color="grey", linestyle=":")
    ax.set(xlabel="share of customers contacted (by score)", ylabel="lift", title="Lift")
    ax.legend(fontsize=8)
    _save(fig, "lift.png")

    ranked = sorted(importance.items(), key=lambda item: item[1])[-20:]
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(ranked) + 1))
    ax.barh([name for name, _ in ranked], [value for _, value in ranked])
    ax.set(xlabel="total gain", title="Feature importance")
    _save(fig, "feature_importance.png")

    mean_abs = np.abs(contributions).mean(axis=0)
    shown = np.argsort(mean_abs)[-15:]
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(shown) + 1))
    for row, j in enumerate(shown):
        values = feature_values[:, j].astype(float)
        finite = np.isfinite(values)
        colour = np.full(len(values), 0.5)
        if finite.any():
            lo, hi = np.nanpercentile(values, [5, 95])
            colour[finite] = np.clip((values[finite] - lo) / (hi - lo or 1.0), 0, 1)
        jitter = np.random.default_rng(j).uniform(-0.3, 0.3, len(values))
        ax.scatter(contributions[:, j], row + jitter, c=colour, cmap="coolwarm", s=4)
    ax.set_yticks(range(len(shown)), [feature_names[j] for j in shown])
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set(xlabel="SHAP value (log-odds; colour: feature value low→high)", title="SHAP summary")
    _save(fig, "shap_summary.png")
    return written
