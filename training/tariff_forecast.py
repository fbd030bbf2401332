"""Next-year hourly consumption of each customer, forecast from readings before a cut-off.

The forecast is "the last twelve months again, at today's level": for every customer the
mean kWh of each hour of the day, by calendar month and day type (working day or rest
day, Chinese holidays and make-up working days included), over the 365 days before the
cut-off, laid out on the calendar of the next twelve months and scaled by the recent
trend. Why this and not a fitted time-series model: a tariff comparison needs the *shape*
(which hours, which months, how many working days) far more than day-to-day accuracy,
a year of the customer's own hours is exactly that shape, and it can be explained at the
counter ("if you use electricity as you did last year"). Weather is the main thing it
cannot know; the P10-P90 band (see `training.tariff_options`) covers it empirically.

The trend is the kWh of the last 90 days over the same 90 days a year earlier, when both
are at least 75 % covered; it is shrunk half-way to 1 (a 90-day ratio carries that
season's weather as well as the customer's growth) and kept within 0.8-1.25. Without a
year-earlier window it is 1.

Cut-offs are the first day of a month, so that every forecast bill is a whole calendar
month like the bills customers receive. Tiers of a yearly reset cumulate from 1 January,
so the actual readings of the cut-off's year before the cut-off are kept with the
forecast (`year_to_date`): billing both puts the forecast months on the right tier.
Nothing dated on or after the cut-off is ever read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np
import pandas as pd

from powerhall.contract import KWH_COLUMNS
from powerhall.errors import PowerhallError
from powerhall.synthetic.calendar_cn import year_calendar
from powerhall.tariffs.hourly import CUSTOMER_ID, DATE, MAX_DEMAND_KW, HourlyReadings

HISTORY_DAYS: Final = 365
TREND_WINDOW_DAYS: Final = 90
LOOKBACK_DAYS: Final = HISTORY_DAYS + TREND_WINDOW_DAYS
"""Readings the forecast reads before the cut-off: a year, plus the trend's year-ago window."""
MIN_HISTORY_DAYS: Final = 270
MIN_COVERAGE: Final = 0.75
"""No tariff advice from less than 270 days of readings or from under 75 % of their hours
(DESIGN, safeguards): a shorter or patchier year misses a season's shape."""
TREND_SHRINK: Final = 0.5
TREND_BOUNDS: Final = (0.8, 1.25)
WORKDAY, REST_DAY = 0, 1


def check_cutoff(cutoff: date) -> date:
    if cutoff.day != 1:
        raise PowerhallError(
            f"tariff forecasts start on the first day of a month, got cut-off {cutoff}: "
            f"use {cutoff.replace(day=1)}"
        )
    return cutoff


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def rest_days(days: np.ndarray) -> np.ndarray:
    """True for weekends and public holidays, False for working days (调休 included)."""
    unique, position = np.unique(days.astype("datetime64[D]"), return_inverse=True)
    rest = np.empty(len(unique), dtype=bool)
    for i, day in enumerate(unique.tolist()):  # distinct calendar days, a few hundred
        calendar = year_calendar(day.year)
        rest[i] = day not in calendar.makeup_workdays and (
            day.weekday() >= 5 or day in calendar.holidays
        )
    return rest[position]


@dataclass(frozen=True)
class History:
    """What the readings before one cut-off say about each customer (rows of `customer_ids`)."""

    cutoff: date
    customer_ids: np.ndarray  # (C,) str
    span_days: np.ndarray  # (C,) days from the first reading of the last year to the cut-off
    coverage: np.ndarray  # (C,) share of those days' hours with a reading
    kwh_per_day_90d: np.ndarray  # (C,) NaN without readings in the last 90 days
    trend: np.ndarray  # (C,) volume factor applied to the forecast
    profile: np.ndarray  # (C, 12, 2, 24) mean kWh by month of year, day type, hour
    demand_kw: np.ndarray  # (C, 12) highest metered demand by month of year; NaN unknown
    year_to_date: HourlyReadings | None  # readings from 1 January to the cut-off (tiers)

    def missing_data(self) -> np.ndarray:
        """(C,) why no advice can be given ("" when enough data), in English."""
        short = self.span_days < MIN_HISTORY_DAYS
        patchy = self.coverage < MIN_COVERAGE
        reasons = np.full(len(self.customer_ids), "", dtype=object)
        reasons[patchy] = [
            f"readings cover {c:.0%} of the hours of the last {d} days ({MIN_COVERAGE:.0%} needed)"
            for c, d in zip(self.coverage[patchy], self.span_days[patchy], strict=True)
        ]
        reasons[short] = [
            f"readings span {d} days before {self.cutoff} ({MIN_HISTORY_DAYS} needed)"
            for d in self.span_days[short]
        ]
        return reasons


def history(readings: pd.DataFrame, customer_ids: np.ndarray, cutoff: date) -> History:
    """Summarise `readings` (contract columns) before `cutoff` for each of `customer_ids`.

    Rows on or after the cut-off, and rows of other customers, are ignored.
    """
    cutoff = check_cutoff(cutoff)
    ids = np.asarray(customer_ids, dtype=object)
    end = np.datetime64(cutoff, "D")
    days = pd.to_datetime(readings[DATE]).to_numpy().astype("datetime64[D]")
    found, labels = pd.factorize(readings[CUSTOMER_ID])
    codes = pd.Index(ids).get_indexer(np.asarray(labels, dtype=object))[found]
    keep = (codes >= 0) & (days < end) & (days >= end - LOOKBACK_DAYS)
    codes, days = codes[keep], days[keep]
    kwh = readings[list(KWH_COLUMNS)].to_numpy(dtype=float, na_value=np.nan)[keep]
    kw = (
        pd.to_numeric(readings[MAX_DEMAND_KW], errors="coerce").to_numpy(float)[keep]
        if MAX_DEMAND_KW in readings.columns
        else np.full(len(days), np.nan)
    )
    seen = ~np.isnan(kwh)
    values = np.where(seen, kwh, 0.0)
    n = len(ids)
    age = (end - days).astype(int)  # 1 = the day before the cut-off

    last_year = age <= HISTORY_DAYS
    oldest = np.zeros(n, dtype=int)
    np.maximum.at(oldest, codes[last_year], age[last_year])
    hours_seen = np.bincount(codes[last_year], seen[last_year].sum(axis=1), minlength=n)
    coverage = np.divide(hours_seen, 24 * oldest, out=np.zeros(n), where=oldest > 0)

    recent = _mean_day(codes, values, seen, age <= TREND_WINDOW_DAYS, n)
    year_ago = _mean_day(codes, values, seen, age > HISTORY_DAYS, n)
    ratio = np.divide(recent[0], year_ago[0], out=np.ones(n), where=year_ago[0] > 0)
    known = (recent[1] >= MIN_COVERAGE) & (year_ago[1] >= MIN_COVERAGE)
    trend = np.where(known, np.clip(1 + TREND_SHRINK * (ratio - 1), *TREND_BOUNDS), 1.0)

    month = pd.DatetimeIndex(days).month.to_numpy() - 1
    day_type = rest_days(days).astype(int)
    profile = _profile(
        codes[last_year],
        month[last_year],
        day_type[last_year],
        values[last_year],
        seen[last_year],
        n,
    )
    demand = _monthly_demand(kw, codes, month, last_year, n)
    this_year = days >= np.datetime64(date(cutoff.year, 1, 1), "D")
    ytd = None
    if this_year.any():
        ytd_rows = pd.DataFrame(dict(zip(KWH_COLUMNS, kwh[this_year].T, strict=True)))
        ytd_rows[CUSTOMER_ID] = ids[codes[this_year]]
        ytd_rows[DATE] = days[this_year]
        ytd_rows[MAX_DEMAND_KW] = kw[this_year]
        ytd = HourlyReadings.from_frame(ytd_rows, fill_missing=True)
    return History(
        cutoff=cutoff,
        customer_ids=ids,
        span_days=oldest,
        coverage=coverage,
        kwh_per_day_90d=np.where(recent[1] > 0, recent[0], np.nan),
        trend=trend,
        profile=profile,
        demand_kw=demand,
        year_to_date=ytd,
    )


def _mean_day(
    codes: np.ndarray, values: np.ndarray, seen: np.ndarray, rows: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean kWh per day (from the hours seen) and hour coverage of a window, per customer."""
    kwh = np.bincount(codes[rows], values[rows].sum(axis=1), minlength=n)
    hours = np.bincount(codes[rows], seen[rows].sum(axis=1), minlength=n)
    window = TREND_WINDOW_DAYS * 24
    return np.divide(24 * kwh, hours, out=np.zeros(n), where=hours > 0), hours / window


def _profile(
    codes: np.ndarray,
    month: np.ndarray,
    day_type: np.ndarray,
    values: np.ndarray,
    seen: np.ndarray,
    n: int,
) -> np.ndarray:
    """(C, 12, 2, 24) mean kWh; a month without readings takes the customer's mean day of
    that type, a day type without readings the other type's."""
    cells = n * 24
    group = codes * 24 + month * 2 + day_type
    sums = np.column_stack([np.bincount(group, values[:, h], cells) for h in range(24)])
    counts = np.column_stack([np.bincount(group, seen[:, h], cells) for h in range(24)])
    sums, counts = sums.reshape(n, 12, 2, 24), counts.reshape(n, 12, 2, 24)
    with np.errstate(invalid="ignore", divide="ignore"):
        profile = sums / counts
        by_type = sums.sum(axis=1) / counts.sum(axis=1)  # (C, 2, 24)
        overall = sums.sum(axis=(1, 2)) / counts.sum(axis=(1, 2))  # (C, 24)
    by_type = np.where(np.isnan(by_type), overall[:, None, :], by_type)
    profile = np.where(np.isnan(profile), by_type[:, None, :, :], profile)
    return np.nan_to_num(profile, nan=0.0)


def _monthly_demand(
    kw: np.ndarray, codes: np.ndarray, month: np.ndarray, rows: np.ndarray, n: int
) -> np.ndarray:
    """(C, 12) highest metered demand by month; a month without one takes the year's."""
    ok = rows & ~np.isnan(kw)
    flat = np.full(n * 12, -np.inf)
    np.maximum.at(flat, codes[ok] * 12 + month[ok], kw[ok])
    demand = flat.reshape(n, 12)
    demand[np.isinf(demand)] = np.nan
    with np.errstate(all="ignore"):
        peak = np.nanmax(np.where(np.isnan(demand), -np.inf, demand), axis=1)
    peak = np.where(np.isinf(peak), np.nan, peak)
    return np.where(np.isnan(demand), peak[:, None], demand)


def forecast_layout(
    hist: History, rows: np.ndarray, volume: np.ndarray, months: int = 12
) -> HourlyReadings:
    """Customers `rows` of `hist` laid out for billing: their actual readings of the
    cut-off's year so far, then the forecast at `volume` x trend up to `months` months after
    the cut-off (from the day after their last reading, should that be before the cut-off).
    """
    return ForecastLayout.build(hist, rows, months).at_volume(volume)


@dataclass(frozen=True)
class ForecastLayout:
    """The calendar of `forecast_layout` for some customers, before any volume is applied.

    Laying out (the days, their day types, the profile looked up for each, the year to
    date placed before them, the customer-month runs) does not depend on the volume, so
    one layout serves the P10, P50 and P90 bills of the same customers: `at_volume` only
    multiplies the forecast rows.
    """

    customer_ids: np.ndarray  # (C,) of the laid-out customers
    trend: np.ndarray  # (C,)
    dates: np.ndarray  # (R,) sorted by customer and date
    kwh: np.ndarray  # (R, 24) actual kWh of year-to-date rows; forecast rows unscaled
    row_missing: np.ndarray  # (R,)
    demand_kw: np.ndarray  # (R,) actual (never NaN), or the unscaled forecast's (NaN unknown)
    forecast: np.ndarray  # (F,) positions of the forecast rows in R
    forecast_customer: np.ndarray  # (F,) index into customer_ids
    month_starts: np.ndarray
    month_customer: np.ndarray

    @classmethod
    def build(cls, hist: History, rows: np.ndarray, months: int = 12) -> ForecastLayout:
        rows = np.asarray(rows)
        n = len(rows)
        end = np.datetime64(add_months(hist.cutoff, months), "D")
        start = np.full(n, np.datetime64(hist.cutoff, "D"))
        parts: list[tuple[np.ndarray, ...]] = []
        ytd = hist.year_to_date
        if ytd is not None:
            at = pd.Index(ytd.customer_ids).get_indexer(hist.customer_ids[rows])
            has = np.flatnonzero(at >= 0)
            bounds = np.append(ytd.month_bounds[ytd.customer_month_starts], ytd.n_rows)
            first, stop = bounds[at[has]], bounds[at[has] + 1]
            take = _ranges(first, stop - first)
            start[has] = ytd.dates[stop - 1] + 1
            parts.append(
                (
                    np.repeat(has, stop - first),
                    ytd.dates[take],
                    ytd.kwh[take],
                    ytd.row_missing[take],
                    ytd.row_demand_kw[take],
                    np.zeros(len(take), dtype=bool),
                )
            )
        length = (end - start).astype(int)
        customer = np.repeat(np.arange(n), length)
        days = start[customer] + (
            np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
        )
        month = pd.DatetimeIndex(days).month.to_numpy() - 1
        kwh = hist.profile[rows[customer], month, rest_days(days).astype(int)]
        demand = hist.demand_kw[rows[customer], month]
        parts.append(
            (
                customer,
                days,
                kwh,
                np.zeros(len(days), dtype=np.int64),
                demand,
                np.ones(len(days), dtype=bool),
            )
        )
        customer, days, kwh, missing, demand, forecast = (
            np.concatenate(p) for p in zip(*parts, strict=True)
        )
        order = np.lexsort((days, customer))
        customer, days, forecast = customer[order], days[order], forecast[order]
        new_month = np.ones(len(days), dtype=bool)
        months_of_row = days.astype("datetime64[M]")
        new_month[1:] = (customer[1:] != customer[:-1]) | (months_of_row[1:] != months_of_row[:-1])
        month_starts = np.flatnonzero(new_month)
        positions = np.flatnonzero(forecast)
        return cls(
            customer_ids=hist.customer_ids[rows],
            trend=hist.trend[rows],
            dates=days,
            kwh=kwh[order],
            row_missing=missing[order],
            demand_kw=demand[order],
            forecast=positions,
            forecast_customer=customer[positions],
            month_starts=month_starts,
            month_customer=customer[month_starts],
        )

    def at_volume(self, volume: np.ndarray) -> HourlyReadings:
        """The layout with each customer's forecast rows at `volume` x trend (the actual
        rows are multiplied by 1, which leaves them exactly as they were)."""
        scale = np.ones(len(self.dates))
        scale[self.forecast] = (self.trend * np.asarray(volume, dtype=float))[
            self.forecast_customer
        ]
        kwh = self.kwh * scale[:, None]
        demand = self.demand_kw * scale
        unknown = np.flatnonzero(np.isnan(demand))  # forecast rows without a metered demand
        demand[unknown] = kwh[unknown].max(axis=1)
        return HourlyReadings(
            customer_ids=self.customer_ids,
            dates=self.dates,
            kwh=kwh,
            row_missing=self.row_missing,
            row_demand_kw=demand,
            month_starts=self.month_starts,
            month_customer=self.month_customer,
            filled=True,
        )


def _ranges(first: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(first[i], first[i] + length[i])``."""
    offsets = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    return np.repeat(first, length) + offsets
