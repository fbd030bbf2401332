"""Bill the forecast under every eligible tariff; savings with a band; the advice.

Each customer's forecast year is billed by the real tariff engine under its current tariff
and under every tariff of its segment and region, at three volumes: the forecast (P50)
and the forecast scaled by the P10 and P90 of the volume band. The band is empirical
(`Band`): how far next year's actual kWh fell from this forecaster's kWh when it was
back-tested on customers with a known next year, per segment. Savings are not linear in
volume (tiers, demand charges), so each volume is billed, not scaled. The saving band is
the lowest and highest of the three savings; P10 <= P50 <= P90 by construction.

Bill risk of a move to time-of-use "if habits do not change": the extra yuan the customer
would pay over staying in the bad case of the band (0 when even that case saves, and for
flat tariffs, where a bad year costs the same on either tariff up to tiers).

The answer per customer (`advise`), in the order of the DESIGN safeguards:
``insufficient_data`` (fewer than 270 days or under 75 % of hours: the reason says which),
``vacant`` (near-zero use lately: no saving advice), ``stay`` (no eligible tariff saves
at least the threshold at P50) or ``switch`` (the candidate of highest expected value,
acceptance probability x P50 saving).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import numpy as np
import pandas as pd

from powerhall.tariffs import HourlyReadings, TariffCatalogue, bill_by_month
from training.tariff_forecast import ForecastLayout, History, add_months

SCENARIOS: Final = ("p10", "p50", "p90")
BATCH_CUSTOMERS: Final = 1000
"""Customers laid out together: bounds memory (a year of hours each, three volumes)."""
CUSTOMER_COLUMNS: Final = ("customer_id", "segment", "region", "tariff_id", "contract_capacity_kva")


class Advice(StrEnum):
    SWITCH = "switch"
    STAY = "stay"
    INSUFFICIENT_DATA = "insufficient_data"
    VACANT = "vacant"


@dataclass(frozen=True)
class Band:
    """Next year's kWh over the forecast's, at P10 and P90, per segment ("" = all)."""

    low: Mapping[str, float]
    high: Mapping[str, float]

    def volumes(self, segments: pd.Series) -> dict[str, np.ndarray]:
        def pick(table: Mapping[str, float]) -> np.ndarray:
            return segments.astype(str).map(lambda s: table.get(s, table[""])).to_numpy(float)

        return {"p10": pick(self.low), "p50": np.ones(len(segments)), "p90": pick(self.high)}

    @classmethod
    def from_ratios(cls, ratios: pd.DataFrame, min_customers: int = 30) -> Band:
        """P10 and P90 of `ratio` per `segment`, pooled where a segment has too few rows."""
        low = {"": float(ratios["ratio"].quantile(0.1))}
        high = {"": float(ratios["ratio"].quantile(0.9))}
        for segment, part in ratios.groupby("segment"):
            if len(part) >= min_customers:
                low[str(segment)] = float(part["ratio"].quantile(0.1))
                high[str(segment)] = float(part["ratio"].quantile(0.9))
        return cls(low, high)

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {"low": dict(self.low), "high": dict(self.high)}


def candidates(customers: pd.DataFrame, catalogue: TariffCatalogue) -> pd.DataFrame:
    """(customer_id, tariff_id) of every eligible tariff and the current one."""
    pairs = []
    for (segment, region), part in customers.groupby(["segment", "region"], sort=True):
        ids = [t.id for t in catalogue.eligible(segment=str(segment), region=str(region))]
        for tariff_id in ids:
            pairs.append(pd.DataFrame({"customer_id": part["customer_id"], "tariff_id": tariff_id}))
    pairs.append(customers[["customer_id", "tariff_id"]])
    table = pd.concat(pairs, ignore_index=True).drop_duplicates()
    table = table[table["tariff_id"].isin([t.id for t in catalogue])]
    return table.astype(str).reset_index(drop=True)


def bill_forecasts(
    hist: History,
    customers: pd.DataFrame,
    catalogue: TariffCatalogue,
    volumes: Mapping[str, np.ndarray],
    *,
    months: int = 12,
    pairs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Yuan and kWh of the forecast months per (customer, tariff, scenario).

    `customers` holds `CUSTOMER_COLUMNS` for customers of `hist`; `volumes` maps a
    scenario to a volume factor per customer (aligned with `customers`); `pairs` limits
    the tariffs billed (default: `candidates`).
    """
    customers = customers.reset_index(drop=True)
    row_of = pd.Series(np.arange(len(hist.customer_ids)), index=hist.customer_ids)
    rows = row_of.reindex(customers["customer_id"].astype(str)).to_numpy()

    def layout(at: np.ndarray) -> Callable[[str], HourlyReadings]:
        laid_out = ForecastLayout.build(hist, rows[at], months)
        return lambda scenario: laid_out.at_volume(np.asarray(volumes[scenario])[at])

    return bill_months(
        customers,
        catalogue,
        candidates(customers, catalogue) if pairs is None else pairs,
        layout,
        scenarios=list(volumes),
        periods=(
            hist.cutoff.strftime("%Y-%m"),
            add_months(hist.cutoff, months - 1).strftime("%Y-%m"),
        ),
    )


def bill_months(
    customers: pd.DataFrame,
    catalogue: TariffCatalogue,
    pairs: pd.DataFrame,
    layout: Callable[[np.ndarray], Callable[[str], HourlyReadings]],
    *,
    scenarios: Sequence[str],
    periods: tuple[str, str],
) -> pd.DataFrame:
    """Bill the readings `layout(positions in customers)(scenario)` under each customer's
    tariffs in `pairs`; sum the months from ``periods[0]`` to ``periods[1]`` (YYYY-MM).

    Customers billed under the same tariffs are laid out together, in bounded batches;
    a batch is laid out once and its scenarios drawn from that layout.
    """
    customers = customers.reset_index(drop=True)
    first, last = periods
    capacity = pd.Series(
        customers["contract_capacity_kva"].to_numpy(dtype=float),
        index=customers["customer_id"].astype(str),
    )
    tariff_sets = pairs.groupby("customer_id")["tariff_id"].agg(lambda t: ",".join(sorted(t)))
    keys = tariff_sets.reindex(customers["customer_id"].astype(str)).fillna("").to_numpy()
    out = []
    for key in sorted(set(keys) - {""}):
        members = np.flatnonzero(keys == key)
        for start in range(0, len(members), BATCH_CUSTOMERS):
            at = members[start : start + BATCH_CUSTOMERS]
            laid_out = layout(at)
            for scenario in scenarios:
                hourly = laid_out(scenario)
                for tariff_id in key.split(","):
                    month_bills = bill_by_month(
                        catalogue.get(tariff_id),
                        hourly,
                        contract_capacity_kva=capacity,
                        fill_missing=True,
                    )
                    in_horizon = (month_bills["period"] >= first) & (month_bills["period"] <= last)
                    totals = month_bills[in_horizon].groupby("customer_id")[["amount_cny", "kwh"]]
                    out.append(
                        totals.sum().reset_index().assign(tariff_id=tariff_id, scenario=scenario)
                    )
    columns = ["customer_id", "tariff_id", "scenario", "amount_cny", "kwh"]
    if not out:
        return pd.DataFrame({c: [] for c in columns})
    return pd.concat(out, ignore_index=True)[columns]


def savings(
    bills: pd.DataFrame, customers: pd.DataFrame, catalogue: TariffCatalogue
) -> pd.DataFrame:
    """One row per (customer, candidate tariff other than the current one).

    Columns: current and candidate bills per scenario, ``saving_p10/p50/p90`` (the band),
    ``saving_share`` (P50 saving over the current P50 bill), ``bill_risk_cny``, ``tou``.
    """
    wide = bills.pivot_table(
        index=["customer_id", "tariff_id"], columns="scenario", values="amount_cny"
    )
    wide.columns = [f"bill_{s}" for s in wide.columns]
    wide = wide.reset_index()
    current = customers[["customer_id", "tariff_id"]].rename(columns={"tariff_id": "current"})
    wide = wide.merge(current, on="customer_id")
    mine = wide[wide["tariff_id"] == wide["current"]].set_index("customer_id")
    table = wide[wide["tariff_id"] != wide["current"]].reset_index(drop=True)
    scenarios = [s for s in SCENARIOS if f"bill_{s}" in wide.columns]
    for s in scenarios:
        table[f"current_{s}"] = table["customer_id"].map(mine[f"bill_{s}"])
        table[f"saving_s_{s}"] = table[f"current_{s}"] - table[f"bill_{s}"]
    spread = table[[f"saving_s_{s}" for s in scenarios]].to_numpy()
    table["saving_p50"] = table["saving_s_p50"]
    table["saving_p10"] = spread.min(axis=1)
    table["saving_p90"] = spread.max(axis=1)
    table["saving_share"] = np.divide(
        table["saving_p50"],
        table["current_p50"],
        out=np.zeros(len(table)),
        where=table["current_p50"].to_numpy() > 0,
    )
    tou = {t.id: t.is_time_of_use for t in catalogue}
    table["tou"] = table["tariff_id"].map(tou).astype(bool)
    table["bill_risk_cny"] = np.where(table["tou"], np.clip(-table["saving_p10"], 0, None), 0.0)
    table = table.dropna(subset=["saving_p50"])
    return table.drop(columns=[f"saving_s_{s}" for s in scenarios]).reset_index(drop=True)


def advise(
    hist: History,
    customers: pd.DataFrame,
    options: pd.DataFrame,
    *,
    min_saving_cny: float,
    vacant_kwh_per_day: float,
) -> pd.DataFrame:
    """The answer per customer of `customers` (see module doc).

    `options` are `savings` rows, with an ``acceptance`` column when a model ranked them
    (else the P50 saving alone ranks). Columns: customer_id, tariff_advice, reason,
    best_tariff_id, best_tariff_saving_cny_365d, best_tariff_saving_p10_cny,
    best_tariff_saving_p90_cny, best_tariff_acceptance, best_tariff_bill_risk_cny.
    """
    row_of = pd.Series(np.arange(len(hist.customer_ids)), index=hist.customer_ids)
    rows = row_of.reindex(customers["customer_id"].astype(str)).to_numpy()
    missing = hist.missing_data()[rows]
    use = hist.kwh_per_day_90d[rows]
    advice = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].astype(str).to_numpy(),
            "current": customers["tariff_id"].astype(str).to_numpy(),
            "reason": missing,
        }
    )
    insufficient = missing != ""
    vacant = ~insufficient & (np.nan_to_num(use, nan=0.0) < vacant_kwh_per_day)
    advice.loc[vacant, "reason"] = [
        f"{u:.2f} kWh per day over the last 90 days: likely vacant" for u in use[vacant]
    ]
    ranked = options[options["saving_p50"] >= min_saving_cny].copy()
    value = ranked["saving_p50"] * ranked.get("acceptance", 1.0)
    ranked = ranked.assign(value=value).sort_values(
        ["customer_id", "value", "tariff_id"], ascending=[True, False, True]
    )
    kept = ["tariff_id", "saving_p50", "saving_p10", "saving_p90", "bill_risk_cny"]
    kept += ["acceptance"] if "acceptance" in ranked else []
    best = ranked.drop_duplicates("customer_id").set_index("customer_id")[kept]
    advice = advice.join(best, on="customer_id")
    switch = ~insufficient & ~vacant & advice["tariff_id"].notna().to_numpy()
    stay = ~insufficient & ~vacant & ~switch
    advice["tariff_advice"] = np.select(
        [insufficient, vacant, switch],
        [Advice.INSUFFICIENT_DATA.value, Advice.VACANT.value, Advice.SWITCH.value],
        Advice.STAY.value,
    )
    advice.loc[stay, "reason"] = f"no eligible tariff saves {min_saving_cny:g} yuan a year or more"
    advice.loc[switch, "reason"] = ""
    out = pd.DataFrame(
        {
            "customer_id": advice["customer_id"],
            "tariff_advice": advice["tariff_advice"],
            "reason": advice["reason"],
            "best_tariff_id": np.where(
                switch, advice["tariff_id"], np.where(stay, advice["current"], None)
            ),
        }
    )
    columns = {
        "best_tariff_saving_cny_365d": "saving_p50",
        "best_tariff_saving_p10_cny": "saving_p10",
        "best_tariff_saving_p90_cny": "saving_p90",
        "best_tariff_acceptance": "acceptance",
        "best_tariff_bill_risk_cny": "bill_risk_cny",
    }
    for column, source in columns.items():
        values = advice[source] if source in advice else pd.Series(np.nan, index=advice.index)
        stay_value = np.nan if source == "acceptance" else 0.0
        out[column] = np.where(switch, values, np.where(stay, stay_value, np.nan)).astype(float)
    return out
