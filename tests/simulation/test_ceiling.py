"""The ceiling of acceptance bounds every policy's first pushes, the oracle's included."""

from __future__ import annotations

import pytest

from powerhall.tariffs import load_catalogue
from powerhall.tips import load_tips
from serving.suggestions.candidates import Catalogue
from simulation.ceiling import first_push_ceiling
from simulation.loop import SimulationRun
from simulation.policies import MOST_POPULAR, ORACLE, POLICIES, RANDOM
from simulation.truth import Truth
from simulation.workspace import Workspace

pytestmark = pytest.mark.slow


def test_no_push_of_the_first_campaign_beats_the_ceiling(
    simulated: SimulationRun, workspace: Workspace
) -> None:
    truth = Truth(workspace.world.raw_dir, workspace.clock.timezone)
    found = first_push_ceiling(simulated, truth, Catalogue(load_tips(), load_catalogue()), POLICIES)
    table = found.table.set_index("policy")
    assert list(table.index) == list(POLICIES)
    first = simulated.pushes[simulated.pushes["campaign"] == 1]
    reached = first.groupby("policy")["customer_id"].nunique()
    assert table["customers"].to_dict() == reached.to_dict()
    assert (table["expected"] <= table["ceiling"]).all()
    assert table.loc[ORACLE, "expected"] > table.loc[RANDOM, "expected"]
    assert found.ceiling_over(MOST_POPULAR) >= 1
    assert found.expected_over(ORACLE, MOST_POPULAR) == pytest.approx(
        table.loc[ORACLE, "expected"] / table.loc[MOST_POPULAR, "expected"]
    )
