"""notebooks/03_closed_loop.ipynb runs the loop on the session's small world and shows the
rounds as a table and a plot, logged to MLflow."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation.policies import POLICIES
from simulation.report import EXPERIMENT
from simulation.workspace import Workspace
from tests.support import REPO_ROOT

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

NOTEBOOK = REPO_ROOT / "notebooks" / "03_closed_loop.ipynb"


def test_closed_loop_notebook_shows_every_round_of_every_policy(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from mlflow import MlflowClient

    monkeypatch.setenv("POWERHALL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SIMULATION_WORKSPACE", str(workspace.root))
    monkeypatch.setenv("SIMULATION_ROUNDS", str(workspace.clock.rounds))
    monkeypatch.setenv("SIMULATION_RETRAIN", "")  # the loop test retrains; this one shows

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code"), (
        "commit the notebook with its outputs stripped"
    )
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3").execute(
        cwd=str(REPO_ROOT)
    )

    shown = str([c.get("outputs") for c in notebook.cells if c.cell_type == "code"])
    assert "image/png" in shown, "the rounds' plot was not shown"
    for policy in POLICIES:
        assert policy in shown
    assert "acceptance powerhall_retrained / oracle" in shown
    uri = f"sqlite:///{tmp_path / 'simulation-notebook' / 'run' / 'mlruns' / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment is not None
    (logged,) = client.search_runs([experiment.experiment_id])
    history = client.get_metric_history(logged.info.run_id, "oracle_acceptance")
    assert sorted(m.step for m in history) == list(range(1, workspace.clock.rounds + 1))
