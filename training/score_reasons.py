"""Reason codes for batch scores: a JSON list per customer, beside each risk column.

Exact SHAP (`pred_contrib`) costs about ten times the prediction itself, too much to spend
on a million customers most of whom nobody will ask about. So only customers whose risk
is above a quantile of their segment's scores (`Settings.reasons_above_quantile`, the
top decile by default) are explained; the others get `[]`, as do explained customers whose
raised features have no phrase. A customer the model did not score gets null. Customers
with no speakable feature value at all (no complaint, no outage, no bill rise...) cannot
have a reason whatever their SHAP values, so they are skipped before SHAP is computed.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from training.model import RiskModel
from training.reasons import TOP_REASONS, picked_json, speakable, top_phrased

NO_REASONS: Final = "[]"


def explained_rows(risk: np.ndarray, segments: pd.Series, quantile: float) -> np.ndarray:
    """Positions of scored rows whose risk is strictly above `quantile` of their segment's
    scored risks. Strictly: isotonic calibration gives many customers the same low score,
    and a tie at the threshold is not a risk worth explaining."""
    scored = ~np.isnan(risk)
    chosen = np.zeros(len(risk), dtype=bool)
    for segment in pd.unique(segments[scored]):
        members = scored & (segments == segment).to_numpy()
        chosen |= members & (risk > np.quantile(risk[members], quantile))
    return np.flatnonzero(chosen)


def reasons_column(
    model: RiskModel,
    frame: pd.DataFrame,
    risk: np.ndarray,
    *,
    quantile: float,
    batch_rows: int,
    top: int = TOP_REASONS,
) -> np.ndarray:
    """One JSON string (or None where `risk` is NaN) per row of `frame`."""
    out = np.where(np.isnan(risk), None, NO_REASONS).astype(object)
    rows = explained_rows(risk, frame["segment"], quantile)
    features = model.features
    for start in range(0, len(rows), batch_rows):
        batch = rows[start : start + batch_rows]
        values = model.inputs(frame.iloc[batch]).to_numpy(dtype=float)
        said = speakable(features, values).any(axis=1)
        batch, values = batch[said], values[said]
        if not len(batch):
            continue
        contributions = model.contributions(frame.iloc[batch])
        picked = top_phrased(features, values, contributions, top)
        out[batch] = picked_json(features, values, picked)
    return out
