"""A few hand-made customers, one per situation a tip must tell apart, and their prices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from powerhall.tariffs.catalogue import load_catalogue
from powerhall.tips import SEGMENT, TipCatalogue, customer_prices, load_tips, tariff_facts

_BASE = {
    "kwh_365d": 3200.0,
    "kwh_90d": 800.0,
    "reading_days_365d": 365,
    "load_factor_365d": 0.3,
    "night_share_365d": 0.15,
    "morning_share_365d": 0.25,
    "afternoon_share_365d": 0.25,
    "evening_share_365d": 0.35,
    "valley_share_365d": 0.25,
    "peak_share_365d": 0.32,
    "summer_shoulder_ratio_365d": 1.6,
    "winter_shoulder_ratio_365d": 1.0,
    "has_air_conditioning": True,
    "has_electric_heating": False,
    "ev_charging_days_share_90d": 0.0,
    "has_ev_charger": False,
    "avg_bill_cny_365d": 150.0,
    "bills_365d": 12,
    "max_demand_kw_365d": np.nan,
    "demand_capacity_ratio_365d": np.nan,
}

CUSTOMERS = {
    # id: (segment, tariff, overrides)
    "ev-home": (
        "residential",
        "shanghai-res-tou",
        {
            "has_ev_charger": True,
            "ev_charging_days_share_90d": 0.5,
            "kwh_365d": 6500.0,
            "avg_bill_cny_365d": 300.0,
        },
    ),
    "plain-home": ("residential", "shanghai-res-tou", {}),
    "flat-ev-home": (
        "residential",
        "shanghai-res-tiered",
        {
            "has_ev_charger": True,
            "ev_charging_days_share_90d": 0.5,
            "kwh_365d": 6500.0,
            "avg_bill_cny_365d": 300.0,
        },
    ),
    "vacant-home": (
        "residential",
        "shanghai-res-tou",
        {"kwh_365d": 40.0, "kwh_90d": 5.0, "has_ev_charger": True},
    ),
    "unknown-appliances": (
        "residential",
        "shanghai-res-tou",
        {"has_ev_charger": None, "has_air_conditioning": None, "summer_shoulder_ratio_365d": None},
    ),
    "shop": (
        "commercial",
        "shanghai-com-tou",
        {"kwh_365d": 90000.0, "avg_bill_cny_365d": 5500.0, "night_share_365d": 0.25},
    ),
    "factory-capacity": (
        "industrial",
        "shanghai-ind-capacity",
        {
            "kwh_365d": 2_000_000.0,
            "avg_bill_cny_365d": 160_000.0,
            "max_demand_kw_365d": 600.0,
            "demand_capacity_ratio_365d": 0.3,
        },
    ),
    "factory-demand": (
        "industrial",
        "shanghai-ind-demand",
        {
            "kwh_365d": 2_000_000.0,
            "avg_bill_cny_365d": 110_000.0,
            "max_demand_kw_365d": 900.0,
            "demand_capacity_ratio_365d": 0.9,
        },
    ),
}


@pytest.fixture(scope="session")
def tips() -> TipCatalogue:
    return load_tips()


@pytest.fixture
def profiles() -> pd.DataFrame:
    rows = {
        customer: {SEGMENT: segment, **_BASE, **overrides}
        for customer, (segment, _, overrides) in CUSTOMERS.items()
    }
    return pd.DataFrame.from_dict(rows, orient="index")


@pytest.fixture(scope="session")
def facts() -> pd.DataFrame:
    return tariff_facts(load_catalogue())


@pytest.fixture
def prices(facts: pd.DataFrame) -> pd.DataFrame:
    tariff_ids = pd.Series({customer: tariff for customer, (_, tariff, _) in CUSTOMERS.items()})
    return customer_prices(facts, tariff_ids)
