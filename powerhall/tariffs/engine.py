"""Vectorised billing of hourly kWh (the `readings` contract) under a `Tariff`.

How a bill is computed, for many customers at once:

- **Tiers.** A kWh's tier is decided by the cumulative kWh of its reset period (calendar
  year or calendar month) in time order. Days that stay inside one tier are summed whole;
  only the few days whose cumulative kWh crosses a bound are split hour by hour, and the
  hour in which the bound falls is split exactly. Bounds are not prorated for a partial
  year or month.
- **Time of use.** Each hour belongs to the period its tariff schedule gives for that
  calendar month.
- **Monthly charges** (fixed charge, demand charge) are charged per calendar month,
  prorated by the share of the month's days that the customer's readings cover. The demand
  charge is per kVA of contract capacity, or per kW of the month's maximum demand: the
  largest ``max_demand_kw`` of the month, and for days without it the day's largest hourly
  kWh (the mean demand of that hour, a lower bound of the true peak).
- **Missing hours.** Each customer is billed from its first to its last reading day; a null
  hour, or a day with no row in between, is missing and counted in ``missing_hours``. By
  default missing hours are left out of the bill. With ``fill_missing=True`` each is filled
  with the mean of the same hour on that customer's other days of the same month, or 0
  when that month has none; the count is reported either way.
- **Rounding** happens once per bill: the unrounded total is rounded half-up to the fen;
  the items (tier x period), the demand and the fixed charge are then rounded so that they
  add up to it exactly, by largest remainder. A month's bill and a whole range's bill are
  each rounded on their own, so twelve monthly totals can differ from the annual total by a
  few fen, as on real bills.

The work is NumPy over arrays of customer-days x 24 hours; Python loops run only over
tiers and over customers when building the returned `Bill` objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from powerhall.errors import TariffError
from powerhall.tariffs.hourly import CUSTOMER_ID, HourlyReadings, sum_runs
from powerhall.tariffs.schema import Tariff

MONTHLY_BILL_COLUMNS = (
    CUSTOMER_ID,
    "period",
    "kwh",
    "energy_cny",
    "demand_cny",
    "fixed_cny",
    "amount_cny",
    "missing_hours",
)
"""Columns of `bill_by_month`; ``amount_cny`` is the month's total, equal to the sum of the
energy, demand and fixed charges to the fen."""


class BillItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    tier: int
    period: str
    kwh: float
    price_cny_per_kwh: float
    amount_cny: float


class Bill(BaseModel):
    """One customer's itemised bill over the readings given; amounts in yuan to the fen."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    tariff_id: str
    start: date
    end: date
    kwh: float
    items: tuple[BillItem, ...]
    energy_cny: float
    demand_cny: float
    fixed_cny: float
    total_cny: float
    missing_hours: int
    filled_missing: bool


def bill(
    tariff: Tariff,
    readings: pd.DataFrame | HourlyReadings,
    *,
    contract_capacity_kva: pd.Series | None = None,
    fill_missing: bool = False,
) -> list[Bill]:
    """One itemised bill per customer over the whole range of `readings`.

    ``contract_capacity_kva`` (indexed by customer_id) is needed by capacity-based
    two-part tariffs only.
    """
    hourly = _prepared(readings, fill_missing)
    if not hourly.n_rows:
        return []
    energy, demand, fixed = _charges_by_month(tariff, hourly, contract_capacity_kva)
    starts = hourly.customer_month_starts
    kwh = sum_runs(energy, starts)  # (C, K, P)
    amounts = kwh * tariff.prices.T
    n_customers, n_tiers, n_periods = kwh.shape
    components = np.column_stack(
        [
            amounts.reshape(n_customers, -1),
            sum_runs(demand, starts),
            sum_runs(fixed, starts),
        ]
    )
    shares, totals = _round_to_fen(components)
    item_fen = shares[:, :-2].reshape(n_customers, n_tiers, n_periods)
    next_customer = np.append(starts[1:], len(hourly.month_starts))
    first_days = hourly.dates[hourly.month_starts[starts]].tolist()
    last_days = hourly.dates[hourly.month_bounds[next_customer] - 1].tolist()
    missing = sum_runs(hourly.month_missing, starts).tolist()
    total_kwh = sum_runs(hourly.month_kwh, starts).round(3).tolist()
    energy_fen = item_fen.sum(axis=(1, 2)).tolist()
    demand_fen, fixed_fen, total_fen = (
        shares[:, -2].tolist(),
        shares[:, -1].tolist(),
        totals.tolist(),
    )

    # items with kWh, in customer, tier, period order; customer c owns items[first[c]:first[c+1]]
    at = np.nonzero(kwh > 0)
    first = np.searchsorted(at[0], np.arange(n_customers + 1)).tolist()
    items = [
        BillItem(
            tier=k + 1,
            period=tariff.period_names[p],
            kwh=q,
            price_cny_per_kwh=tariff.prices_cny_per_kwh[tariff.period_names[p]][k],
            amount_cny=fen / 100,
        )
        for k, p, q, fen in zip(
            at[1].tolist(),
            at[2].tolist(),
            kwh[at].round(3).tolist(),
            item_fen[at].tolist(),
            strict=True,
        )
    ]
    bills = [
        Bill(
            customer_id=str(hourly.customer_ids[c]),
            tariff_id=tariff.id,
            start=first_days[c],
            end=last_days[c],
            kwh=total_kwh[c],
            items=tuple(items[first[c] : first[c + 1]]),
            energy_cny=energy_fen[c] / 100,
            demand_cny=demand_fen[c] / 100,
            fixed_cny=fixed_fen[c] / 100,
            total_cny=total_fen[c] / 100,
            missing_hours=int(missing[c]),
            filled_missing=hourly.filled,
        )
        for c in range(n_customers)
    ]
    return bills


def bill_by_month(
    tariff: Tariff,
    readings: pd.DataFrame | HourlyReadings,
    *,
    contract_capacity_kva: pd.Series | None = None,
    fill_missing: bool = False,
) -> pd.DataFrame:
    """One row per customer and calendar month, as the monthly bills a customer receives.

    Tiers cumulate across months within a yearly reset period, as on real bills. Columns:
    `MONTHLY_BILL_COLUMNS`.
    """
    hourly = _prepared(readings, fill_missing)
    if not hourly.n_rows:
        return pd.DataFrame({column: [] for column in MONTHLY_BILL_COLUMNS})
    energy, demand, fixed = _charges_by_month(tariff, hourly, contract_capacity_kva)
    energy_cny = np.einsum("mkp,pk->m", energy, tariff.prices)
    shares, totals = _round_to_fen(np.column_stack([energy_cny, demand, fixed]))
    return pd.DataFrame(
        {
            CUSTOMER_ID: hourly.customer_ids[hourly.month_customer].astype(str),
            "period": hourly.month_label,
            "kwh": hourly.month_kwh.round(3),
            "energy_cny": shares[:, 0] / 100,
            "demand_cny": shares[:, 1] / 100,
            "fixed_cny": shares[:, 2] / 100,
            "amount_cny": totals / 100,
            "missing_hours": hourly.month_missing.astype(np.int64),
        }
    )


def compare_tariffs(
    tariffs: Iterable[Tariff],
    readings: pd.DataFrame | HourlyReadings,
    *,
    current_tariff_id: str | None = None,
    contract_capacity_kva: pd.Series | None = None,
    fill_missing: bool = False,
) -> pd.DataFrame:
    """Bill the same readings under each tariff; cheapest first per customer.

    ``saving_cny`` is the current tariff's total minus this one's (positive saves money);
    null when the current tariff is not among those compared.
    """
    hourly = _prepared(readings, fill_missing)
    rows = [
        (b.customer_id, tariff.id, tariff.name, b.total_cny, b.missing_hours)
        for tariff in tariffs
        for b in bill(tariff, hourly, contract_capacity_kva=contract_capacity_kva)
    ]
    table = pd.DataFrame(
        rows, columns=[CUSTOMER_ID, "tariff_id", "name", "total_cny", "missing_hours"]
    )
    current = table.loc[table["tariff_id"] == current_tariff_id].set_index(CUSTOMER_ID)
    table["saving_cny"] = (table[CUSTOMER_ID].map(current["total_cny"]) - table["total_cny"]).round(
        2
    )
    table = table.sort_values([CUSTOMER_ID, "total_cny", "tariff_id"], ignore_index=True)
    table["rank"] = table.groupby(CUSTOMER_ID).cumcount() + 1
    return table


def _prepared(readings: pd.DataFrame | HourlyReadings, fill_missing: bool) -> HourlyReadings:
    if isinstance(readings, HourlyReadings):
        if fill_missing and not readings.filled:
            raise ValueError("these HourlyReadings were laid out without fill_missing")
        return readings
    return HourlyReadings.from_frame(readings, fill_missing=fill_missing)


def _charges_by_month(
    tariff: Tariff, hourly: HourlyReadings, contract_capacity_kva: pd.Series | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """kWh per (customer-month, tier, period), demand charge and fixed charge per month."""
    in_period = tariff.hour_periods[:, :, None] == np.arange(len(tariff.period_names))
    energy = _tier_hour_kwh(tariff, hourly) @ in_period[hourly.month_of_year - 1].astype(float)
    fixed = tariff.fixed_cny_per_month * hourly.month_share
    charge = tariff.demand_charge
    if charge is None:
        demand = np.zeros(len(hourly.month_starts))
    elif charge.basis == "capacity_kva":
        capacity = _capacities(tariff, hourly, contract_capacity_kva)
        demand = charge.cny_per_unit_month * capacity[hourly.month_customer] * hourly.month_share
    else:
        demand = charge.cny_per_unit_month * hourly.month_demand_kw * hourly.month_share
    return energy, demand, fixed


def _tier_hour_kwh(tariff: Tariff, hourly: HourlyReadings) -> np.ndarray:
    """(M, n_tiers, 24) kWh of each customer-month by tier and hour of day."""
    if tariff.tiers is None:
        return hourly.month_hour_kwh[:, None, :]
    n_tiers = tariff.n_tiers
    monthly = tariff.tiers.reset == "month"
    before = hourly.kwh_before_in_month if monthly else hourly.kwh_before_in_year
    after = before + hourly.row_kwh
    if tariff.tiers.seasonal_bounds_kwh:
        bounds = tariff.month_bounds[hourly.month_of_year[hourly.row_month] - 1]
    else:
        bounds = tariff.month_bounds[:1]
    tier_first = np.zeros(hourly.n_rows, dtype=np.intp)
    tier_last = np.zeros(hourly.n_rows, dtype=np.intp)
    for j in range(n_tiers - 1):
        tier_first += bounds[:, j] <= before
        tier_last += bounds[:, j] < after
    crossing = tier_last > tier_first

    # days within one tier: sum contiguous runs of equal (customer-month, tier) whole
    key = hourly.row_month * n_tiers + tier_first
    run_start = np.ones(len(key), dtype=bool)
    run_start[1:] = (key[1:] != key[:-1]) | crossing[1:] | crossing[:-1]
    starts = np.flatnonzero(run_start)
    sums = sum_runs(hourly.kwh, starts)
    whole = ~crossing[starts]
    out = np.zeros((len(hourly.month_starts) * n_tiers, 24))
    # keys never decrease (tiers only rise within a reset period), so a whole run's key is
    # unique: the runs that share it are crossing days, which are added below
    out[key[starts[whole]]] = sums[whole]

    # days crossing a bound: split each hour at the bounds
    rows = np.flatnonzero(crossing)
    kwh = hourly.kwh[rows]
    start = before[rows, None] + np.cumsum(kwh, axis=1) - kwh
    end = start + kwh
    row_bounds = np.broadcast_to(bounds, (hourly.n_rows, n_tiers - 1))[rows]
    lower = np.column_stack([np.zeros(len(rows)), row_bounds])
    upper = np.column_stack([row_bounds, np.full(len(rows), np.inf)])
    for k in range(n_tiers):
        part = np.minimum(end, upper[:, k, None]) - np.maximum(start, lower[:, k, None])
        np.add.at(out, hourly.row_month[rows] * n_tiers + k, np.clip(part, 0.0, None))
    return out.reshape(len(hourly.month_starts), n_tiers, 24)


def _capacities(
    tariff: Tariff, hourly: HourlyReadings, contract_capacity_kva: pd.Series | None
) -> np.ndarray:
    if contract_capacity_kva is None:
        raise TariffError(
            f"tariff {tariff.id} charges by contract capacity: contract_capacity_kva is needed"
        )
    capacity = pd.to_numeric(contract_capacity_kva, errors="coerce")
    capacity.index = capacity.index.astype(str)
    capacity = capacity.reindex(hourly.customer_ids).to_numpy(dtype=float)
    if unknown := [str(c) for c in hourly.customer_ids[np.isnan(capacity)][:5]]:
        raise TariffError(
            f"tariff {tariff.id} charges by contract capacity: no contract_capacity_kva for "
            f"customer(s) {', '.join(unknown)}"
        )
    if (capacity < 0).any():
        raise TariffError(f"tariff {tariff.id}: contract_capacity_kva is negative for a customer")
    return capacity


def _round_to_fen(components: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Round each row's total half-up to the fen; share it out by largest remainder.

    Returns (shares in fen, same shape as `components`; totals in fen). Rounding the fen
    values to 6 decimals first stops binary noise (30.849999... fen) from flipping a
    half-fen; products of published prices and metered kWh carry far fewer decimals.
    """
    fen = np.round(components * 100, 6)
    totals = np.floor(fen.sum(axis=1) + 0.5).astype(np.int64)
    floor = np.floor(fen)
    short = totals - floor.sum(axis=1).astype(np.int64)
    order = np.argsort(floor - fen, axis=1, kind="stable")  # largest remainder first
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(fen.shape[1])[None, :], axis=1)
    shares = floor.astype(np.int64) + (rank < short[:, None])
    return shares, totals
