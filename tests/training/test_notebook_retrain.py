"""notebooks/02_retrain_and_promote.ipynb runs end to end on the small session data, and its
promotion and rollback really happen in the registry it points at."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from powerhall.settings import Settings
from tests.support import REPO_ROOT
from training import churn
from training.registry import CHAMPION, HISTORY_TAG

pytestmark = pytest.mark.notebooks

NOTEBOOK = REPO_ROOT / "notebooks" / "02_retrain_and_promote.ipynb"
NEW_FEATURE = "tariff_offer_decline_rate"


def _printed(notebook) -> str:
    return "".join(
        o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs
    )


def test_retrain_and_promote_notebook_moves_the_champion_and_back(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("POWERHALL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("POWERHALL_SEED", str(settings.seed))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code"), (
        "commit the notebook with its outputs stripped"
    )
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3").execute(
        cwd=str(REPO_ROOT)
    )

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    versions = {str(v.version): v for v in client.search_model_versions(f"name='{churn.NAME}'")}
    assert sorted(versions, key=int) == ["1", "2"]
    challenger_run = client.get_run(versions["2"].run_id)
    features = json.loads(
        Path(
            client.download_artifacts(challenger_run.info.run_id, "features.json", str(tmp_path))
        ).read_text()
    )
    assert NEW_FEATURE in features["features"] and NEW_FEATURE in features["derived"]

    printed = _printed(notebook)
    assert "churn champion is now version 2" in printed
    assert "churn champion is back to version 1" in printed
    assert str(client.get_model_version_by_alias(churn.NAME, CHAMPION).version) == "1"
    assert json.loads(client.get_registered_model(churn.NAME).tags[HISTORY_TAG]) == ["1"]
    assert "image/png" in str(notebook.cells), "the ROC and calibration plots were not shown"
