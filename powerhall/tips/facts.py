"""Tariff facts a saving estimate needs, one row per tariff, from the tariff files.

A tip's saving is priced with the customer's own tariff: the mean energy price, the
spread between the peak and valley price (0 on a flat tariff: moving load saves nothing
there), and for two-part tariffs the demand charge on each basis. The rate of the basis a
customer is not on comes from the tariff of the same region and segment that uses it.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Final

import numpy as np
import pandas as pd

from powerhall.tariffs.schema import Tariff

ENERGY_PRICE: Final = "energy_price_cny_per_kwh"
PEAK_VALLEY_SPREAD: Final = "peak_valley_spread_cny_per_kwh"
DEMAND_BASIS: Final = "demand_basis"
CAPACITY_CHARGE: Final = "capacity_charge_cny_per_kva_month"
DEMAND_CHARGE: Final = "demand_charge_cny_per_kw_month"
FACTS: Final = (ENERGY_PRICE, PEAK_VALLEY_SPREAD, DEMAND_BASIS, CAPACITY_CHARGE, DEMAND_CHARGE)
"""Columns of the `prices` frame that `TipCatalogue.estimate_savings` reads."""


class DemandBasis(StrEnum):
    CAPACITY = "capacity_kva"
    MAX_DEMAND = "max_demand_kw"


def _energy_price(tariff: Tariff) -> float:
    """First-tier price averaged over the 12 x 24 hours of the year's schedules."""
    if not tariff.is_time_of_use:
        return float(tariff.prices[0, 0])
    return float(tariff.prices[tariff.hour_periods, 0].mean())


def _spread(tariff: Tariff) -> float:
    """Peak minus valley price (first tier); the extremes when periods are named otherwise."""
    if not tariff.is_time_of_use:
        return 0.0
    first_tier = dict(zip(tariff.period_names, tariff.prices[:, 0], strict=True))
    high = first_tier.get("peak", max(first_tier.values()))
    low = first_tier.get("valley", min(first_tier.values()))
    return float(high - low)


def tariff_facts(tariffs: Iterable[Tariff]) -> pd.DataFrame:
    """One row of `FACTS` per tariff id; demand columns are NaN where they do not apply."""
    tariffs = list(tariffs)
    rates: dict[tuple[str, str | None, str], float] = {}
    for t in tariffs:
        if t.demand_charge is not None:
            key = (t.segment, t.region, t.demand_charge.basis)
            rates.setdefault(key, t.demand_charge.cny_per_unit_month)
    rows = []
    for t in tariffs:
        basis = None if t.demand_charge is None else DemandBasis(t.demand_charge.basis)
        rows.append(
            {
                "tariff_id": t.id,
                ENERGY_PRICE: _energy_price(t),
                PEAK_VALLEY_SPREAD: _spread(t),
                DEMAND_BASIS: basis,
                CAPACITY_CHARGE: rates.get((t.segment, t.region, DemandBasis.CAPACITY), np.nan)
                if basis
                else np.nan,
                DEMAND_CHARGE: rates.get((t.segment, t.region, DemandBasis.MAX_DEMAND), np.nan)
                if basis
                else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=["tariff_id", *FACTS]).set_index("tariff_id")


def customer_prices(facts: pd.DataFrame, tariff_ids: pd.Series) -> pd.DataFrame:
    """Facts of each customer's tariff, indexed like `tariff_ids` (NaN for an unknown tariff)."""
    return facts.reindex(tariff_ids.to_numpy()).set_axis(tariff_ids.index)
