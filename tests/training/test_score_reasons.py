"""Which customers batch scoring explains, and the reasons column in batches."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerhall.settings import Settings
from training.classifier import TrainResult
from training.score import latest_profiles
from training.score_reasons import NO_REASONS, explained_rows, reasons_column


def test_only_risks_strictly_above_their_segments_quantile_are_explained() -> None:
    risk = np.array([0.1, 0.1, 0.1, 0.5, np.nan, 0.2, 0.3])
    segments = pd.Series(["residential"] * 5 + ["commercial"] * 2)
    assert explained_rows(risk, segments, 0.5).tolist() == [3, 6]
    assert explained_rows(risk, segments, 0.0).tolist() == [3, 6]
    assert explained_rows(np.full(3, np.nan), segments[:3], 0.5).tolist() == []


def test_the_column_is_null_where_unscored_and_the_same_in_any_batch_size(
    settings: Settings, complaint_run: TrainResult
) -> None:
    profiles = latest_profiles(settings)
    risk = complaint_run.model.probability(profiles)
    risk[:5] = np.nan
    whole = reasons_column(complaint_run.model, profiles, risk, quantile=0.5, batch_rows=10**6)
    assert all(r is None for r in whole[:5])
    assert all(isinstance(r, str) for r in whole[5:])
    assert NO_REASONS in whole and any(r not in (None, NO_REASONS) for r in whole)
    small = reasons_column(complaint_run.model, profiles, risk, quantile=0.5, batch_rows=7)
    assert small.tolist() == whole.tolist()
