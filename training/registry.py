"""The model registry: versions, the `champion` / `challenger` aliases and the promotion gate.

The service loads `models:/<name>@champion`, so an alias move is a deployment. The gate
moves it only when the new version beats the champion on the *same* test window: the
champion is re-scored on the candidate's test rows, never compared by the metric it logged
on an older window. The versions that held `champion` are kept, newest last, in the
registered model's tag `champion_history`, which is what `rollback` walks back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from powerhall.errors import NotFoundError, PowerhallError
from training.evaluate import classification_metrics

if TYPE_CHECKING:
    from mlflow import MlflowClient

CHAMPION: Final = "champion"
CHALLENGER: Final = "challenger"
HISTORY_TAG: Final = "champion_history"
GATE_METRIC: Final = "auc"


logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GateDecision:
    name: str
    version: str
    alias: str
    metric: str
    candidate_score: float
    champion_version: str | None
    champion_score: float | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrainingRun:
    """What every training run reports, whatever the model: the registered version, the
    data window, the metrics of each scorer and the gate's decision (`--json` prints it)."""

    name: str
    run_id: str
    version: str
    window: dict[str, str]
    rows: dict[str, int]
    metrics: dict[str, dict[str, float]]
    decision: GateDecision

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "run_id": self.run_id,
            "version": self.version,
            "window": self.window,
            "rows": self.rows,
            "metrics": self.metrics,
            "decision": self.decision.as_dict(),
        }


@dataclass(frozen=True)
class ModelSummary:
    name: str
    latest_version: str
    champion: str | None
    challenger: str | None
    champion_history: list[str]


def _client() -> MlflowClient:
    from mlflow import MlflowClient

    return MlflowClient()


def _history(client: MlflowClient, name: str) -> list[str]:
    tags = client.get_registered_model(name).tags
    return list(json.loads(tags.get(HISTORY_TAG, "[]")))


def _alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def _check_version(client: MlflowClient, name: str, version: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.get_model_version(name, version)
    except MlflowException as exc:
        raise NotFoundError(f"model {name} has no version {version}") from exc


def register(model_uri: str, name: str, *, tags: dict[str, str] | None = None) -> str:
    """Register the logged model at `model_uri` as a new version of `name`; return it."""
    import mlflow

    version = mlflow.register_model(model_uri, name, tags=tags)
    return str(version.version)


def predict_probability(model_uri: str, features: pd.DataFrame) -> np.ndarray:
    """Scores of a registered pyfunc model: its `probability` column, or its only output."""
    import mlflow

    output = mlflow.pyfunc.load_model(model_uri).predict(features)
    if isinstance(output, pd.DataFrame):
        output = output["probability"] if "probability" in output else output.iloc[:, 0]
    return np.asarray(output, dtype=float).ravel()


def gate(
    name: str,
    version: str,
    *,
    features: pd.DataFrame,
    labels: np.ndarray,
    metric: str = GATE_METRIC,
    evaluate: Callable[[np.ndarray, np.ndarray], Mapping[str, float]] = classification_metrics,
) -> GateDecision:
    """Alias `version` champion if it beats the champion re-scored on these rows, else challenger.

    Both are loaded back from the registry, so the comparison is of what would be served.
    A tie keeps the champion: a new version has to earn the move. `evaluate` turns labels
    and scores into metrics (a ranker passes its NDCG over its queries).
    """
    client = _client()
    _check_version(client, name, version)
    candidate = evaluate(labels, predict_probability(f"models:/{name}/{version}", features))[metric]
    current = _alias_version(client, name, CHAMPION)
    if current is None or current == version:
        decision = GateDecision(
            name, version, CHAMPION, metric, candidate, None, None,
            f"no champion yet: version {version} becomes champion ({metric} {candidate:.4f})",
        )  # fmt: skip
    else:
        incumbent = evaluate(labels, predict_probability(f"models:/{name}@{CHAMPION}", features))[
            metric
        ]
        if candidate > incumbent:
            alias = CHAMPION
            reason = (
                f"version {version} beats champion version {current} on the same test window: "
                f"{metric} {candidate:.4f} > {incumbent:.4f}"
            )
        else:
            alias = CHALLENGER
            reason = (
                f"version {version} does not beat champion version {current} on the same test "
                f"window: {metric} {candidate:.4f} <= {incumbent:.4f}; it stays challenger"
            )
        decision = GateDecision(name, version, alias, metric, candidate, current, incumbent, reason)
    if decision.alias == CHAMPION:
        promote(name, version)
    else:
        client.set_registered_model_alias(name, CHALLENGER, version)
    client.set_model_version_tag(name, version, "gate_reason", decision.reason)
    return decision


def register_and_gate(
    model_uri: str,
    name: str,
    *,
    tags: dict[str, str],
    features: pd.DataFrame,
    labels: np.ndarray,
    metric: str = GATE_METRIC,
    evaluate: Callable[[np.ndarray, np.ndarray], Mapping[str, float]] = classification_metrics,
) -> tuple[str, GateDecision]:
    """What ends every training run: a new version of `name`, judged by the gate on the
    run's test rows, its verdict written on the active run too."""
    import mlflow

    version = register(model_uri, name, tags=tags)
    decision = gate(
        name, version, features=features, labels=labels, metric=metric, evaluate=evaluate
    )
    mlflow.set_tags({"gate_alias": decision.alias, "gate_reason": decision.reason})
    logger.info("%s version %s: %s", name, version, decision.reason)
    return version, decision


def promote(name: str, version: str) -> None:
    """Make `version` the champion by hand (or from the gate) and remember the move."""
    client = _client()
    _check_version(client, name, version)
    history = _history(client, name)
    if history and history[-1] == version:
        return
    client.set_registered_model_alias(name, CHAMPION, version)
    client.set_registered_model_tag(name, HISTORY_TAG, json.dumps([*history, version]))
    if _alias_version(client, name, CHALLENGER) == version:
        client.delete_registered_model_alias(name, CHALLENGER)


def rollback(name: str) -> str:
    """Give `champion` back to the version that held it before; return that version."""
    from mlflow.exceptions import MlflowException

    client = _client()
    try:
        history = _history(client, name)
    except MlflowException as exc:
        raise NotFoundError(f"no registered model {name}") from exc
    if len(history) < 2:
        raise PowerhallError(f"model {name} has no earlier champion to roll back to")
    previous = history[-2]
    client.set_registered_model_alias(name, CHAMPION, previous)
    client.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history[:-1]))
    return previous


def list_models() -> list[ModelSummary]:
    client = _client()
    summaries = []
    for model in client.search_registered_models():
        versions = [int(v.version) for v in client.search_model_versions(f"name='{model.name}'")]
        summaries.append(
            ModelSummary(
                name=model.name,
                latest_version=str(max(versions)) if versions else "",
                champion=_alias_version(client, model.name, CHAMPION),
                challenger=_alias_version(client, model.name, CHALLENGER),
                champion_history=_history(client, model.name),
            )
        )
    return sorted(summaries, key=lambda s: s.name)
