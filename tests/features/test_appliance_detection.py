"""Appliance detection from the hourly shape, scored against the tiny world's known truth."""

from __future__ import annotations

import pandas as pd

from features.evaluation import appliance_scores, latest_appliances
from powerhall.settings import Settings
from tests.features.lake import World


def test_ev_chargers_and_heating_are_found(built: Settings, world: World) -> None:
    truth = pd.DataFrame(
        {
            "has_ev": [c in world.ev_customers for c in world.customers],
            "has_electric_heating": [c in world.heating_customers for c in world.customers],
            "has_air_conditioning": False,
        },
        index=pd.Index(world.customers, name="customer_id"),
    )
    scores = appliance_scores(latest_appliances(built.offline_dir), truth)
    assert scores.loc["ev", "f1"] == 1.0
    assert scores.loc["electric_heating", "f1"] == 1.0


def test_scores_count_undecided_customers_as_not_detected() -> None:
    index = pd.Index(["a", "b", "c", "d"], name="customer_id")
    truth = pd.DataFrame(
        {
            "has_ev": [True, True, False, False],
            "has_electric_heating": False,
            "has_air_conditioning": False,
        },
        index=index,
    )
    detected = pd.DataFrame(
        {
            "has_ev_charger": [True, None, True, False],
            "has_electric_heating": None,
            "has_air_conditioning": False,
        },
        index=index,
    )
    ev = appliance_scores(detected, truth).loc["ev"]
    assert (ev["precision"], ev["recall"], ev["f1"]) == (0.5, 0.5, 0.5)
