"""One small simulation workspace per session: a generated world deployed at the start of
its rounds (tips and tariff_fit trained, everyone scored, the online store loaded), and one
run of every policy through its rounds, reported."""

from __future__ import annotations

import pytest

from powerhall.settings import ContactPolicy
from simulation.loop import SimulationRun, run
from simulation.report import Report, report
from simulation.workspace import Workspace, prepare
from training import tips

CUSTOMERS = 200
ROUNDS = 2
HISTORY_DAYS = 420
SEED = 3


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return prepare(
        tmp_path_factory.mktemp("simulation") / "workspace",
        customers=CUSTOMERS,
        rounds=ROUNDS,
        seed=SEED,
        history_days=HISTORY_DAYS,
    )


@pytest.fixture(scope="session")
def simulated(workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> SimulationRun:
    """Every round, tips retrained between rounds (tariff_fit's retraining is the same
    pipeline, slower: the CLI's default runs both)."""
    return run(workspace, tmp_path_factory.mktemp("loop") / "run", retrain=(tips.NAME,))


@pytest.fixture(scope="session")
def reported(simulated: SimulationRun) -> Report:
    return report(simulated, ContactPolicy())
