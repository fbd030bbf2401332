"""`powerhall simulate`: its checks before any work, and what it prints of a run."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from powerhall.cli import app
from simulation.cli import show
from simulation.loop import SimulationRun
from simulation.policies import POLICIES
from simulation.report import Report

runner = CliRunner()


def test_simulate_refuses_a_directory_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "workspace").mkdir()
    (tmp_path / "workspace" / "notes.txt").write_text("keep me")
    result = runner.invoke(app, ["simulate", "--customers", "10", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "not empty and not a simulation's" in result.output
    assert (tmp_path / "workspace" / "notes.txt").read_text() == "keep me"


def test_simulate_checks_its_options() -> None:
    for wrong in (["--exploration-share", "1.5"], ["--rounds", "0"], ["--history-days", "30"]):
        assert runner.invoke(app, ["simulate", *wrong]).exit_code == 2, wrong


@pytest.mark.slow
def test_the_report_prints_rounds_goals_caps_and_pipelines(
    simulated: SimulationRun, reported: Report
) -> None:
    console = Console(record=True, width=200)
    show(console, reported, simulated, {"total": 1.0})
    printed = console.export_text()
    for policy in POLICIES:
        assert policy in printed
    assert "acceptance powerhall_retrained / most_popular, all rounds" in printed
    assert "after round 1:" in printed and "tips v2" in printed
    assert f"--backend-store-uri {simulated.tracking_uri}" in printed
