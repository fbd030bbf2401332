"""notebooks/01_customer_profiles.ipynb runs end to end on small generated data."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.profiles import build_profiles
from powerhall.ingest import ingest
from powerhall.synthetic import generate
from tests.support import REPO_ROOT

pytestmark = pytest.mark.notebooks

NOTEBOOK = REPO_ROOT / "notebooks" / "01_customer_profiles.ipynb"


def test_customer_profiles_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    generate(customers=60, days=400, seed=5, out=tmp_path / "raw")
    ingest(tmp_path / "raw", tmp_path / "lake", tmp_path / "quarantine")
    build_profiles(tmp_path / "lake", tmp_path / "features")
    monkeypatch.setenv("POWERHALL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code"), (
        "commit the notebook with its outputs stripped"
    )
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute(
        cwd=str(REPO_ROOT)
    )
    scores = [o for c in notebook.cells for o in c.get("outputs", []) if "precision" in str(o)]
    assert scores, "the appliance scores table was not shown"
