"""NDCG@k over queries of different sizes, vectorised.

Queries are padded into one (queries x longest query) matrix so that scikit-learn's
`ndcg_score` scores them all at once: padded cells get no relevance and a score below
every real one, so they never enter the ideal ranking nor push a real item down. Ties are
averaged (scikit-learn's `ignore_ties=False`): a scorer that cannot tell two tips apart
is credited with the expected gain of a random order, never with a lucky row order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
from sklearn.metrics import ndcg_score

from powerhall.errors import PowerhallError

KS: Final = (1, 2, 3, 4, 5)


def pad_queries(
    relevance: np.ndarray, score: np.ndarray, query: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(queries x longest query) relevance and score matrices, in order of first appearance."""
    rel = np.asarray(relevance, dtype=float)
    s = np.asarray(score, dtype=float)
    q = np.asarray(query)
    if not rel.shape == s.shape == q.shape or rel.ndim != 1:
        raise PowerhallError(
            f"relevance {rel.shape}, scores {s.shape} and queries {q.shape} differ in shape"
        )
    if np.isnan(s).any() or np.isnan(rel).any():
        raise PowerhallError("relevance and scores must not hold NaN")
    _, first, row = np.unique(q, return_index=True, return_inverse=True)
    row = np.argsort(np.argsort(first))[row]  # queries numbered by first appearance
    order = np.argsort(row, kind="stable")
    starts = np.searchsorted(row[order], np.arange(len(first)))
    column = np.arange(len(q)) - starts[row[order]]
    width = max(int(column.max()) + 1, 2) if len(q) else 2
    rel_matrix = np.zeros((len(first), width))
    score_matrix = np.full((len(first), width), (s.min() if len(s) else 0.0) - 1.0)
    rel_matrix[row[order], column] = rel[order]
    score_matrix[row[order], column] = s[order]
    return rel_matrix, score_matrix


def ndcg_at(
    relevance: np.ndarray, score: np.ndarray, query: np.ndarray, ks: Sequence[int] = KS
) -> dict[int, float]:
    """Mean NDCG@k over the queries, for each k; every query must hold a relevant item."""
    rel, s = pad_queries(relevance, score, query)
    if not len(rel):
        raise PowerhallError("no queries to rank")
    if (rel.max(axis=1) <= 0).any():
        raise PowerhallError("every query needs a relevant item: NDCG is undefined without one")
    return {k: float(ndcg_score(rel, s, k=k, ignore_ties=False)) for k in ks}
