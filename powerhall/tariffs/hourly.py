"""Readings checked and laid out once (customer-days x 24 hours) for fast billing.

Laying out is the costly, tariff-independent part of billing: sorting by customer and
date, checking numbers, inserting the days missing inside a customer's range, filling
missing hours when asked (see `powerhall.tariffs.engine` for the rules) and finding the
customer-month runs. `HourlyReadings.from_frame` does it once for any number of tariffs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import sparse

from powerhall.contract import KWH_COLUMNS, LOCAL_TIMEZONE
from powerhall.errors import ContractError

CUSTOMER_ID = "customer_id"
DATE = "date"
MAX_DEMAND_KW = "max_demand_kw"


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
            sums = sum_runs(known, month_starts)
            counts = sum_runs(~is_missing, month_starts)
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
        return sum_runs(self.kwh, self.month_starts)

    @cached_property
    def month_kwh(self) -> np.ndarray:
        return self.month_hour_kwh.sum(axis=1)

    @cached_property
    def month_missing(self) -> np.ndarray:
        return sum_runs(self.row_missing, self.month_starts).astype(np.int64)

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


def sum_runs(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
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
