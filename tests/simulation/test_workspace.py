"""The workspace: what `prepare` refuses before any work, and what `load` trusts."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from powerhall.errors import PowerhallError
from simulation.clock import Clock
from simulation.workspace import WORKSPACE_FILE, Workspace, last_sunday, prepare


def test_prepare_refuses_models_it_does_not_train_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(PowerhallError, match="not \\['churn'\\]"):
        prepare(tmp_path / "ws", customers=10, rounds=1, seed=1, models=("churn",))
    assert not (tmp_path / "ws").exists()


def test_only_a_finished_workspace_loads(tmp_path: Path) -> None:
    with pytest.raises(PowerhallError, match="not a simulation workspace"):
        Workspace.load(tmp_path)
    workspace = Workspace(tmp_path, Clock(date(2026, 6, 1), 2, "Asia/Shanghai"), 10, 400, 1)
    workspace.save(prepared=False)
    with pytest.raises(PowerhallError, match="did not finish"):
        Workspace.load(tmp_path)
    workspace.save(prepared=True)
    assert Workspace.load(tmp_path) == workspace
    assert json.loads((tmp_path / WORKSPACE_FILE).read_text())["prepared"] is True


def test_the_rounds_end_with_the_generated_data() -> None:
    assert last_sunday(date(2026, 6, 30)) == date(2026, 6, 28)
    assert last_sunday(date(2026, 6, 28)) == date(2026, 6, 28)
