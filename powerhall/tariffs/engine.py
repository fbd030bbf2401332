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
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict
from scipy import sparse

from powerhall.contract import KWH_COLUMNS, LOCAL_TIMEZONE
from powerhall.errors import ContractError, TariffError
from powerhall.tariffs.schema import Tariff

CUSTOMER_ID = "customer_id"
DATE = "date"
MAX_DEMAND_KW = "max_demand_kw"
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


@dataclass(frozen=True, eq=False)
class HourlyReadings:
    """Readings checked and laid out once, so that many tariffs can bill them cheaply.

    Rows are customer-days sorted by customer and date with no gap inside a customer's
    range; customer-months are contiguous runs of rows.
    """

    customer_ids: np.ndarray  # (C,) str
    dates: np.ndarray  # (R,) datetime64[D]
    kwh: np.ndarray  # (R, 24) billed kWh: missing hours are 0 or filled
    row_missing: np.ndarray  # (R,) missing hours per row, before any filling
    row_demand_kw: np.ndarray  # (R,) the day's maximum demand (see module docstring)
    month_starts: np.ndarray  # (M,) first row of each customer-month
    month_customer: np.ndarray  # (M,) index into customer_ids
    filled: bool

    @classmethod
    def from_frame(cls, readings: pd.DataFrame, *, fill_missing: bool = False) -> HourlyReadings:
        """Validate a readings frame (contract columns) and lay it out for billing."""
        missing = [c for c in (CUSTOMER_ID, DATE, *KWH_COLUMNS) if c not in readings.columns]
        if missing:
            raise ContractError(f"readings: missing column(s) {', '.join(missing)}")
        if readings[CUSTOMER_ID].isna().any():
            raise ContractError(f"readings: {CUSTOMER_ID} is null in some rows")
        codes, customer_ids = pd.factorize(readings[CUSTOMER_ID].astype(str), sort=True)
        days = _as_days(readings[DATE])
        kwh = _as_numbers(readings, list(KWH_COLUMNS))
        demand = (
            _as_numbers(readings, [MAX_DEMAND_KW])[:, 0]
            if MAX_DEMAND_KW in readings.columns
            else np.full(len(readings), np.nan)
        )
        order = np.lexsort((days, codes))
        codes, days, kwh, demand = codes[order], days[order], kwh[order], demand[order]
        _refuse_duplicates(codes, days, customer_ids)
        codes, days, kwh, demand = _fill_gaps(codes, days, kwh, demand)

        new_month = np.ones(len(days), dtype=bool)
        months = days.astype("datetime64[M]")
        new_month[1:] = (codes[1:] != codes[:-1]) | (months[1:] != months[:-1])
        month_starts = np.flatnonzero(new_month)

        is_missing = np.isnan(kwh)
        if fill_missing and is_missing.any():
            row_month = np.cumsum(new_month) - 1
            known = np.where(is_missing, 0.0, kwh)
            sums = _sum_runs(known, month_starts)
            counts = _sum_runs(~is_missing, month_starts)
            means = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
            kwh = np.where(is_missing, means[row_month], kwh)
        else:
            kwh = np.where(is_missing, 0.0, kwh)
        row_demand = np.where(np.isnan(demand), kwh.max(axis=1, initial=0.0), demand)
        return cls(
            customer_ids=np.asarray(customer_ids, dtype=object),
            dates=days,
            kwh=kwh,
            row_missing=is_missing.sum(axis=1),
            row_demand_kw=row_demand,
            month_starts=month_starts,
            month_customer=codes[month_starts],
            filled=fill_missing,
        )

    @property
    def n_rows(self) -> int:
        return len(self.dates)

    @cached_property
    def row_month(self) -> np.ndarray:
        """Customer-month index of each row."""
        return np.repeat(np.arange(len(self.month_starts)), np.diff(self.month_bounds))

    @cached_property
    def month_bounds(self) -> np.ndarray:
        return np.append(self.month_starts, self.n_rows)

    @cached_property
    def month_of_year(self) -> np.ndarray:
        """(M,) calendar month 1-12 of each customer-month."""
        months = self.dates[self.month_starts].astype("datetime64[M]")
        return months.astype(int) % 12 + 1

    @cached_property
    def month_label(self) -> np.ndarray:
        return np.datetime_as_string(self.dates[self.month_starts], unit="M")

    @cached_property
    def month_share(self) -> np.ndarray:
        """(M,) share of each calendar month covered; prorates the monthly charges."""
        first = self.dates[self.month_starts].astype("datetime64[M]")
        length = ((first + 1).astype("datetime64[D]") - first.astype("datetime64[D]")).astype(int)
        return np.diff(self.month_bounds) / length

    @cached_property
    def month_hour_kwh(self) -> np.ndarray:
        """(M, 24) kWh per customer-month and hour of day."""
        return _sum_runs(self.kwh, self.month_starts)

    @cached_property
    def month_kwh(self) -> np.ndarray:
        return self.month_hour_kwh.sum(axis=1)

    @cached_property
    def month_missing(self) -> np.ndarray:
        return _sum_runs(self.row_missing, self.month_starts).astype(np.int64)

    @cached_property
    def month_demand_kw(self) -> np.ndarray:
        if not self.n_rows:
            return np.zeros(0)
        return np.maximum.reduceat(self.row_demand_kw, self.month_starts)

    @cached_property
    def row_kwh(self) -> np.ndarray:
        return self.kwh.sum(axis=1)

    @cached_property
    def kwh_before_in_month(self) -> np.ndarray:
        """(R,) kWh of the row's customer earlier in the same calendar month."""
        return self._running_before(self.month_starts)

    @cached_property
    def kwh_before_in_year(self) -> np.ndarray:
        """(R,) kWh of the row's customer earlier in the same calendar year."""
        years = self.dates[self.month_starts].astype("datetime64[Y]")
        new = np.ones(len(years), dtype=bool)
        new[1:] = (self.month_customer[1:] != self.month_customer[:-1]) | (years[1:] != years[:-1])
        return self._running_before(self.month_starts[new])

    def _running_before(self, starts: np.ndarray) -> np.ndarray:
        groups = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, self.n_rows)))
        # the running sum restarts per group, so precision does not decay with row count
        running = pd.Series(self.row_kwh).groupby(groups).cumsum().to_numpy()
        return running - self.row_kwh

    @cached_property
    def customer_month_starts(self) -> np.ndarray:
        """(C,) first customer-month of each customer."""
        return np.searchsorted(self.month_customer, np.arange(len(self.customer_ids)))


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
    kwh = _sum_runs(energy, starts)  # (C, K, P)
    amounts = kwh * tariff.prices.T
    n_customers, n_tiers, n_periods = kwh.shape
    components = np.column_stack(
        [
            amounts.reshape(n_customers, -1),
            _sum_runs(demand, starts),
            _sum_runs(fixed, starts),
        ]
    )
    shares, totals = _round_to_fen(components)
    item_fen = shares[:, :-2].reshape(n_customers, n_tiers, n_periods)
    next_customer = np.append(starts[1:], len(hourly.month_starts))
    first_days = hourly.dates[hourly.month_starts[starts]].tolist()
    last_days = hourly.dates[hourly.month_bounds[next_customer] - 1].tolist()
    missing = _sum_runs(hourly.month_missing, starts).tolist()
    total_kwh = _sum_runs(hourly.month_kwh, starts).round(3).tolist()
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
    sums = _sum_runs(hourly.kwh, starts)
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


def _sum_runs(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sums of `values` over contiguous runs of rows beginning at `starts` (starts[0] == 0).

    A sparse 0/1 matrix whose CSR row pointers are the run bounds sums every run in one
    pass; `np.add.reduceat` along the first axis of a 2-D array is several times slower.
    """
    n = len(values)
    ones = sparse.csr_array(
        (np.ones(n), np.arange(n), np.append(starts, n)), shape=(len(starts), n)
    )
    sums = ones @ values.reshape(n, -1).astype(float, copy=False)
    return sums.reshape(len(starts), *values.shape[1:])


def _as_days(column: pd.Series) -> np.ndarray:
    try:
        stamps = pd.to_datetime(column)
    except (ValueError, TypeError) as exc:
        raise ContractError(f"readings: {DATE} is not a date in some rows ({exc})") from exc
    if stamps.isna().any():
        raise ContractError(f"readings: {DATE} is null in some rows")
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert(LOCAL_TIMEZONE).dt.tz_localize(None)
    return stamps.to_numpy().astype("datetime64[D]")


def _as_numbers(readings: pd.DataFrame, columns: list[str]) -> np.ndarray:
    try:
        values = readings[columns].to_numpy(dtype=float, na_value=np.nan)
    except (ValueError, TypeError) as exc:
        raise ContractError(f"readings: {', '.join(columns)} must be numbers ({exc})") from exc
    bad = np.isinf(values) | (values < 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ContractError(
            f"readings: {columns[col]} must be a finite number >= 0, got {values[row, col]} "
            f"({CUSTOMER_ID} {readings[CUSTOMER_ID].iloc[row]}, "
            f"{DATE} {readings[DATE].iloc[row]}); {int(bad.sum())} such value(s)"
        )
    return values


def _refuse_duplicates(codes: np.ndarray, days: np.ndarray, customer_ids: pd.Index) -> None:
    same = (codes[1:] == codes[:-1]) & (days[1:] == days[:-1])
    if same.any():
        i = int(np.argmax(same))
        raise ContractError(
            f"readings: {int(same.sum())} duplicate ({CUSTOMER_ID}, {DATE}) row(s), "
            f"e.g. {customer_ids[codes[i]]} on {days[i]}"
        )


def _fill_gaps(
    codes: np.ndarray, days: np.ndarray, kwh: np.ndarray, demand: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Insert all-missing rows for days absent inside a customer's range of readings."""
    if not len(codes):
        return codes, days, kwh, demand
    first_row = np.flatnonzero(np.append(True, codes[1:] != codes[:-1]))
    last_row = np.append(first_row[1:], len(codes)) - 1
    span = (days[last_row] - days[first_row]).astype(int) + 1
    if span.sum() == len(codes):
        return codes, days, kwh, demand
    offset = np.append(0, np.cumsum(span)[:-1])
    customer = np.repeat(np.arange(len(first_row)), np.diff(np.append(first_row, len(codes))))
    position = offset[customer] + (days - days[first_row][customer]).astype(int)
    n = int(span.sum())
    all_days = np.repeat(days[first_row], span) + (np.arange(n) - np.repeat(offset, span))
    full_kwh = np.full((n, 24), np.nan)
    full_kwh[position] = kwh
    full_demand = np.full(n, np.nan)
    full_demand[position] = demand
    return np.repeat(codes[first_row], span), all_days, full_kwh, full_demand
