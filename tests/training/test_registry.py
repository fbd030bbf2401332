from __future__ import annotations

import uuid
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from powerhall.errors import NotFoundError, PowerhallError
from training import registry


class ColumnScorer(mlflow.pyfunc.PythonModel):
    """A stand-in model whose probability is one input column: its quality is known."""

    def __init__(self, column: str) -> None:
        self.column = column

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        return pd.DataFrame({"probability": model_input[self.column].clip(0, 1)})


@pytest.fixture(scope="module")
def window() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    truth = rng.uniform(0, 0.3, 3000)
    labels = (rng.random(truth.size) < truth).astype(int)
    features = pd.DataFrame(
        {
            "exact": truth,
            "blurred": np.clip(truth + rng.normal(0, 0.1, truth.size), 0, 1),
            "noise": rng.uniform(0, 0.3, truth.size),
        }
    )
    return features, labels


def _register(name: str, column: str) -> str:
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(
            name="model", python_model=ColumnScorer(column), pip_requirements=["mlflow"]
        )
    return registry.register(info.model_uri, name)


@pytest.fixture
def name(tracking_uri: str) -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def test_the_first_version_becomes_champion(name: str, window) -> None:
    features, labels = window
    version = _register(name, "blurred")
    decision = registry.gate(name, version, features=features, labels=labels)
    assert decision.alias == registry.CHAMPION
    assert "no champion yet" in decision.reason


def test_the_gate_refuses_a_worse_model_after_rescoring_the_champion(name: str, window) -> None:
    features, labels = window
    champion = _register(name, "blurred")
    registry.gate(name, champion, features=features, labels=labels)
    worse = _register(name, "noise")
    decision = registry.gate(name, worse, features=features, labels=labels)
    assert decision.alias == registry.CHALLENGER
    assert decision.champion_version == champion
    assert decision.champion_score == pytest.approx(roc_auc_score(labels, features["blurred"]))
    assert decision.candidate_score < decision.champion_score
    assert "does not beat champion version" in decision.reason
    summary = {s.name: s for s in registry.list_models()}[name]
    assert (summary.champion, summary.challenger) == (champion, worse)


def test_a_better_model_is_promoted_and_can_be_rolled_back(name: str, window) -> None:
    features, labels = window
    first = _register(name, "blurred")
    registry.gate(name, first, features=features, labels=labels)
    better = _register(name, "exact")
    decision = registry.gate(name, better, features=features, labels=labels)
    assert decision.alias == registry.CHAMPION
    assert f"beats champion version {first}" in decision.reason
    assert registry.rollback(name) == first
    summary = {s.name: s for s in registry.list_models()}[name]
    assert (summary.champion, summary.champion_history) == (first, [first])
    with pytest.raises(PowerhallError, match="no earlier champion"):
        registry.rollback(name)


def test_promoting_a_missing_version_names_it(name: str) -> None:
    _register(name, "exact")
    with pytest.raises(NotFoundError, match=f"model {name} has no version 9"):
        registry.promote(name, "9")
