"""Tariff facts priced from the shipped tariff files."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerhall.tips import FACTS, DemandBasis, customer_prices
from powerhall.tips.facts import (
    CAPACITY_CHARGE,
    DEMAND_BASIS,
    DEMAND_CHARGE,
    ENERGY_PRICE,
    PEAK_VALLEY_SPREAD,
)


def test_one_row_of_facts_per_tariff(facts: pd.DataFrame) -> None:
    assert list(facts.columns) == list(FACTS)
    assert facts.index.is_unique
    assert (facts[ENERGY_PRICE] > 0).all()
    assert (facts[PEAK_VALLEY_SPREAD] >= 0).all()


def test_a_flat_tariff_has_no_spread(facts: pd.DataFrame) -> None:
    assert facts.loc["shanghai-res-tiered", PEAK_VALLEY_SPREAD] == 0
    assert facts.loc["shanghai-res-tou", PEAK_VALLEY_SPREAD] > 0


def test_two_part_tariffs_know_both_bases(facts: pd.DataFrame) -> None:
    capacity, demand = facts.loc["jiangsu-ind-capacity"], facts.loc["jiangsu-ind-demand"]
    assert capacity[DEMAND_BASIS] == DemandBasis.CAPACITY
    assert demand[DEMAND_BASIS] == DemandBasis.MAX_DEMAND
    assert capacity[CAPACITY_CHARGE] == demand[CAPACITY_CHARGE] > 0
    assert capacity[DEMAND_CHARGE] == demand[DEMAND_CHARGE] > 0
    assert np.isnan(facts.loc["jiangsu-com-tou", DEMAND_CHARGE])


def test_customer_prices_follow_the_customers(facts: pd.DataFrame) -> None:
    ids = pd.Series(["shanghai-res-tou", "nowhere", "shanghai-res-tou"], index=["a", "b", "c"])
    prices = customer_prices(facts, ids)
    assert prices.index.tolist() == ["a", "b", "c"]
    assert prices.loc["a", ENERGY_PRICE] == prices.loc["c", ENERGY_PRICE] > 0
    assert np.isnan(prices.loc["b", ENERGY_PRICE])
