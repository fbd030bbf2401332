from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from powerhall.errors import PowerhallError
from powerhall.settings import Settings, get_settings
from training.cli import app


@pytest.fixture
def env(settings: Settings, tracking_uri: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("POWERHALL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("POWERHALL_SEED", str(settings.seed))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_train_prints_its_metrics_and_gate_decision_as_json(env) -> None:
    result = CliRunner().invoke(app, ["train", "churn", "--json"])
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert run["name"] == "churn"
    assert {"rule", "logistic", "lightgbm", "oracle"} <= set(run["metrics"])
    assert 0 <= run["metrics"]["lightgbm"]["ece"] <= 1
    assert run["decision"]["alias"] in ("champion", "challenger")
    assert run["decision"]["reason"]

    listed = json.loads(CliRunner().invoke(app, ["models", "list", "--json"]).stdout)
    churn = next(m for m in listed if m["name"] == "churn")
    assert churn["latest_version"] == run["version"]


def test_rollback_without_an_earlier_champion_is_a_domain_error(env) -> None:
    result = CliRunner().invoke(app, ["models", "rollback", "no-such-model"])
    assert isinstance(result.exception, PowerhallError)


def test_train_all_trains_every_model_in_turn_and_reports_each(
    env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`all` is the four trainings one after the other (each is tested on its own)."""
    from training import cli
    from training.registry import GateDecision, TrainingRun

    trained: list[str] = []

    def train_one(model, cutoff, seed, calibration) -> TrainingRun:
        trained.append(str(model))
        decision = GateDecision(str(model), "1", "champion", "auc", 0.7, None, None, "first")
        return TrainingRun(str(model), "run", "1", {}, {}, {}, decision)

    monkeypatch.setattr(cli, "_train_one", train_one)
    result = CliRunner().invoke(app, ["train", "all", "--json"])
    assert result.exit_code == 0, result.output
    assert trained == ["churn", "complaint", "tips", "tariff_fit"]
    assert sorted(json.loads(result.stdout)) == sorted(trained)
