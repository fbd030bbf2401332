from __future__ import annotations

import numpy as np
import pytest

from powerhall.errors import PowerhallError
from training.evaluate import (
    classification_metrics,
    expected_calibration_error,
    lift_at_top,
    save_plots,
)


def test_a_calibrated_score_has_small_ece_and_a_shifted_one_does_not() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 0.2, 50_000)
    y = (rng.random(p.size) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.005
    assert expected_calibration_error(y, np.clip(p + 0.05, 0, 1)) == pytest.approx(0.05, abs=0.005)


def test_lift_of_a_perfect_ranking_is_one_over_the_base_rate_capped_by_the_decile() -> None:
    y = np.array([1] * 5 + [0] * 95)
    score = np.linspace(1, 0, 100)
    assert lift_at_top(y, score) == pytest.approx(0.5 / 0.05)
    assert lift_at_top(y, -score) == 0


def test_metrics_refuse_a_window_with_one_class() -> None:
    with pytest.raises(PowerhallError, match="only one class"):
        classification_metrics(np.zeros(10), np.linspace(0, 1, 10))


def test_plots_are_written(tmp_path) -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    values = rng.normal(size=(300, 3))
    paths = save_plots(
        y,
        {"a": rng.random(300), "b": rng.random(300)},
        importance={"x": 3.0, "y": 1.0, "z": 0.5},
        contributions=values * 0.1,
        feature_values=values,
        feature_names=("x", "y", "z"),
        out_dir=tmp_path,
    )
    names = {p.name for p in paths}
    assert names == {
        "roc.png",
        "calibration.png",
        "lift.png",
        "feature_importance.png",
        "shap_summary.png",
    }
    assert all(p.stat().st_size > 1000 for p in paths)
