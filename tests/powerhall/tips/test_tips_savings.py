"""Saving estimates: never negative, zero where a tip does not apply, and the right size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from powerhall.errors import ContractError
from powerhall.tips import DemandBasis, TipCatalogue
from powerhall.tips.facts import DEMAND_BASIS, DEMAND_CHARGE, ENERGY_PRICE, PEAK_VALLEY_SPREAD


@pytest.fixture
def savings(tips: TipCatalogue, profiles: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
    return tips.estimate_savings(profiles, prices)


def test_savings_are_finite_and_not_negative(savings: pd.DataFrame, tips: TipCatalogue) -> None:
    assert list(savings.columns) == tips.ids
    assert np.isfinite(savings.to_numpy()).all()
    assert (savings.to_numpy() >= 0).all()


def test_no_saving_where_a_tip_is_not_eligible(
    savings: pd.DataFrame, tips: TipCatalogue, profiles: pd.DataFrame
) -> None:
    assert (savings.to_numpy()[~tips.eligible(profiles).to_numpy()] == 0).all()
    assert (savings.loc["vacant-home"] == 0).all()


def test_ev_valley_charging_is_shifted_kwh_times_the_spread(
    savings: pd.DataFrame, prices: pd.DataFrame
) -> None:
    shifted_kwh = 0.5 * 365 * 12 * 0.8
    spread = prices.loc["ev-home", PEAK_VALLEY_SPREAD]
    assert savings.loc["ev-home", "tip-ev-valley-charging"] == pytest.approx(shifted_kwh * spread)


def test_shifting_saves_nothing_on_a_flat_tariff(savings: pd.DataFrame) -> None:
    assert savings.loc["flat-ev-home", "tip-ev-valley-charging"] == 0
    assert savings.loc["flat-ev-home", "tip-laundry-valley"] == 0
    assert savings.loc["flat-ev-home", "tip-fridge-settings"] > 0


def test_savings_are_a_modest_share_of_the_bill(
    savings: pd.DataFrame, profiles: pd.DataFrame
) -> None:
    annual_bill = profiles["avg_bill_cny_365d"] * profiles["bills_365d"]
    for customer in ("ev-home", "plain-home", "shop", "factory-capacity", "factory-demand"):
        assert savings.loc[customer].max() > 0, customer
        assert (savings.loc[customer] < 0.3 * annual_bill[customer]).all(), customer


def test_standby_saving_is_its_share_of_the_energy_bill(
    savings: pd.DataFrame, profiles: pd.DataFrame, prices: pd.DataFrame
) -> None:
    expected = (
        0.04 * profiles.loc["plain-home", "kwh_365d"] * prices.loc["plain-home", ENERGY_PRICE]
    )
    assert savings.loc["plain-home", "tip-standby-power"] == pytest.approx(expected)


def test_demand_basis_switch_saves_only_when_the_other_basis_is_cheaper(
    savings: pd.DataFrame, prices: pd.DataFrame
) -> None:
    # 600 kW of demand on 2000 kVA of capacity: charged on capacity, demand would be cheaper.
    factory = prices.loc["factory-capacity"]
    on_capacity = 12 * 2000 * factory["capacity_charge_cny_per_kva_month"]
    on_demand = 12 * 600 * factory[DEMAND_CHARGE]
    expected = on_capacity - on_demand
    assert savings.loc["factory-capacity", "tip-demand-basis-switch"] == pytest.approx(expected)
    # 900 kW on 1000 kVA, charged on demand: capacity costs less per unit at this ratio.
    assert savings.loc["factory-demand", "tip-demand-basis-switch"] > 0
    assert prices.loc["factory-demand", DEMAND_BASIS] == DemandBasis.MAX_DEMAND


def test_staggering_starts_saves_only_on_a_demand_basis(savings: pd.DataFrame) -> None:
    assert savings.loc["factory-demand", "tip-stagger-large-loads"] > 0
    assert savings.loc["factory-capacity", "tip-stagger-large-loads"] == 0


def test_an_unknown_tariff_gives_no_saving(
    tips: TipCatalogue, profiles: pd.DataFrame, prices: pd.DataFrame
) -> None:
    prices.loc["plain-home"] = np.nan
    savings = tips.estimate_savings(profiles, prices)
    assert (savings.loc["plain-home"] == 0).all()


def test_prices_must_match_the_profiles(
    tips: TipCatalogue, profiles: pd.DataFrame, prices: pd.DataFrame
) -> None:
    with pytest.raises(ContractError, match="indexed like profiles"):
        tips.estimate_savings(profiles, prices.iloc[:-1])
    with pytest.raises(ContractError, match=f"prices: missing column.*{ENERGY_PRICE}"):
        tips.estimate_savings(profiles, prices.drop(columns=[ENERGY_PRICE]))
