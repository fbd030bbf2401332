from __future__ import annotations

import re

import mlflow
import numpy as np
from mlflow import MlflowClient

from powerhall.settings import Settings
from training import complaint
from training.classifier import TrainResult, fit_risk_model
from training.datasets import build_examples, temporal_split
from training.reasons import explain
from training.registry import CHAMPION


def test_the_run_logs_every_scorer_the_plots_and_the_window(complaint_run: TrainResult) -> None:
    run = MlflowClient().get_run(complaint_run.run_id)
    for scorer in ("rule", "logistic", "lightgbm", "oracle"):
        for metric in ("auc", "pr_auc", "brier", "ece", "lift_top_decile"):
            assert f"{scorer}_{metric}" in run.data.metrics
    assert run.data.params["window_cutoff"] == complaint_run.window["cutoff"]
    plots = {a.path for a in MlflowClient().list_artifacts(complaint_run.run_id, "plots")}
    assert {"plots/roc.png", "plots/calibration.png", "plots/lift.png"} <= plots
    assert {"plots/feature_importance.png", "plots/shap_summary.png"} <= plots


def test_the_champion_loaded_by_alias_predicts_as_the_model_in_memory(
    complaint_run: TrainResult,
) -> None:
    assert complaint_run.decision.alias == CHAMPION
    served = mlflow.pyfunc.load_model(f"models:/{complaint.NAME}@{CHAMPION}")
    features = complaint_run.test[list(complaint_run.model.features)]
    predicted = served.predict(features)["probability"].to_numpy()
    assert np.array_equal(predicted, complaint_run.model.probability(features))


def test_training_is_reproducible_for_a_seed(settings: Settings) -> None:
    examples = build_examples(complaint.SPEC.task, settings)
    split = temporal_split(examples, complaint.HORIZON_DAYS)
    first, second = (fit_risk_model(examples, split, seed=3) for _ in range(2))
    assert np.array_equal(first.probability(split.test), second.probability(split.test))
    other = fit_risk_model(examples, split, seed=4)
    assert not np.array_equal(first.raw_probability(split.test), other.raw_probability(split.test))


def test_the_riskiest_customers_get_readable_reasons(complaint_run: TrainResult) -> None:
    model, test = complaint_run.model, complaint_run.test
    riskiest = test.iloc[np.argsort(-model.probability(test))[:30]]
    reasons = explain(model, riskiest)
    assert sum(bool(r) for r in reasons) >= 10
    for reason in (r for row in reasons for r in row):
        assert reason.contribution > 0
        assert re.search(r"[\u4e00-\u9fff]", reason.zh) and "{" not in reason.zh
        assert re.fullmatch(r"[\x20-\x7e]+", reason.en) and "{" not in reason.en
