"""This month's bill and the next tier crossing of each customer, forecast from the readings
so far and billed by the tariff engine.

Residential tariffs price a kWh by the tier of the cumulative kWh of the calendar year
(`powerhall/tariffs/files`), so a month's bill depends on the whole year so far: the actual
readings from the start of the tier period to the day before `as_of` are billed together
with the forecast of the rest of the month, and the month's row is the forecast bill.
Missing hours are left out, as the engine (and so the bills table) leaves them out.

The forecast is "the last weeks again, moved by the season": each remaining day is the
customer's mean hour-of-day profile of its day type (working or rest day, Chinese holidays
and make-up working days included) over the `RECENT_DAYS` before `as_of`, times a seasonal
factor from the customer's own last year: kWh per day on the days forecast, 364 days
earlier (the same weekdays), over kWh per day in the recent window 364 days earlier,
shrunk half-way to 1 and bounded; 1 without last year's readings. Why: within a month the
bill is mostly the level of the last weeks, and what moves it is the season (air
conditioning coming or going), of which last year's curve is the customer's own record;
the weather itself is not in the lake. Two naive methods are kept for the evaluation: the
month-to-date run rate and last year's same days scaled by this month's use so far.

The band is measured, not assumed: `measure_band` forecasts the same day of each of the
`BAND_MONTHS` previous months for the same customers and takes the P10 and P90 of actual
over forecast kWh of the rest of those months; the forecast days are billed at those
volumes (a bill grows with kWh, so the bills are the bill's P10 and P90).

The tier crossing is the first day the cumulative kWh of the tier period passes the next
bound (the engine's rule: a kWh above a bound is priced in the next tier), looked for up
to the end of the next month and within the tier period; at the P90 volume it comes
earliest, at the P10 latest (or not within the horizon).

Nothing dated on or after `as_of` is read: every function cuts the readings there first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

import numpy as np
import pandas as pd

from features.profiles.catalogue import BANDS, EV_EVENING_HOURS, SUMMER_MONTHS, WINTER_MONTHS
from powerhall.contract import KWH_COLUMNS
from powerhall.errors import ContractError
from powerhall.tariffs import HourlyReadings, Tariff, TariffCatalogue, bill_by_month
from powerhall.tariffs.hourly import CUSTOMER_ID, DATE, MAX_DEMAND_KW
from training.tariff_forecast import add_months, rest_days

RECENT_DAYS: Final = 28
"""Days the level and the hour-of-day profile are taken from: four weeks of each weekday."""
MIN_COVERAGE: Final = 0.75
"""No forecast from under 75 % of the recent window's hours, nor a seasonal factor from
last-year windows covered less."""
YEAR_DAYS: Final = 364
"""Last year's day: 52 weeks earlier, the same weekday."""
SEASON_SHRINK: Final = 0.5
SEASON_BOUNDS: Final = (0.67, 1.5)
"""Last year's change is half weather, half the customer: shrunk half-way to 1, bounded."""
BAND_MONTHS: Final = 3
BAND_QUANTILES: Final = (0.1, 0.9)
MIN_BAND_SAMPLES: Final = 20
"""Fewer backtest samples than this give no band (P10 and P90 stay unknown)."""
MIN_BAND_KWH_PER_DAY: Final = 0.5
"""Backtests forecasting less than this per day (vacant premises) say nothing of the band."""
FORECAST_COLUMNS: Final = (
    "customer_id",
    "tariff_id",
    "month",
    "kwh_to_date",
    "kwh_forecast",
    "bill_forecast_cny",
    "bill_forecast_p10_cny",
    "bill_forecast_p90_cny",
    "tier",
    "tier_next",
    "tier_cross_date",
    "tier_cross_earliest",
    "tier_cross_latest",
    "reason",
)
"""Columns of `forecast_bills`: one row per customer; ``reason`` says why there is no
forecast ("" when there is one). Tier columns are null for tariffs without tiers, and the
crossing dates null when no crossing is forecast within the horizon."""


class Method(StrEnum):
    RECENT = "recent"
    """Recent day-type profile times last year's seasonal change (the forecast)."""
    RUN_RATE = "run_rate"
    """Baseline: the month-to-date mean day for every remaining day."""
    LAST_YEAR = "last_year"
    """Baseline: last year's same days scaled by this month's kWh so far over last year's."""


@dataclass(frozen=True)
class Band:
    """Volume multipliers of the forecast days at the P10 and P90 (NaN: not measured)."""

    low: float
    high: float
    samples: int


NO_BAND: Final = Band(np.nan, np.nan, 0)


@dataclass(frozen=True)
class Cube:
    """Readings as a dense (customer, day, hour) array from `start`; NaN where none.

    Dense because every step here slices windows of days (recent weeks, last year's same
    days, the year to date), which a dense layout makes plain index arithmetic.
    """

    customer_ids: np.ndarray  # (C,) str
    start: date
    kwh: np.ndarray  # (C, D, 24) float64, NaN = missing
    demand_kw: np.ndarray  # (C, D) metered maximum demand, NaN unknown
    day_kwh: np.ndarray  # (C, D) kWh of the hours read
    day_hours: np.ndarray  # (C, D) hours read

    @classmethod
    def from_frame(
        cls,
        readings: pd.DataFrame,
        customer_ids: Sequence[str] | np.ndarray,
        start: date,
        end: date,
    ) -> Cube:
        """Readings (contract columns) of `customer_ids` dated in [start, end)."""
        missing = [c for c in (CUSTOMER_ID, DATE, *KWH_COLUMNS) if c not in readings.columns]
        if missing:
            raise ContractError(f"readings: missing column(s) {', '.join(missing)}")
        if end <= start:
            raise ContractError(f"readings window: end {end} is not after start {start}")
        ids = np.asarray([str(c) for c in customer_ids], dtype=object)
        n_days = (end - start).days
        codes = pd.Index(ids).get_indexer(readings[CUSTOMER_ID].astype(str))
        days = pd.to_datetime(readings[DATE]).to_numpy().astype("datetime64[D]")
        offset = (days - np.datetime64(start, "D")).astype(int)
        keep = (codes >= 0) & (offset >= 0) & (offset < n_days)
        codes, offset = codes[keep], offset[keep]
        values = readings[list(KWH_COLUMNS)].to_numpy(dtype=float, na_value=np.nan)[keep]
        kwh = np.full((len(ids), n_days, 24), np.nan)
        kwh[codes, offset] = values
        day_kwh = np.zeros((len(ids), n_days))
        day_kwh[codes, offset] = np.nansum(values, axis=1)
        day_hours = np.zeros((len(ids), n_days), dtype=np.int64)
        day_hours[codes, offset] = (~np.isnan(values)).sum(axis=1)
        demand = np.full((len(ids), n_days), np.nan)
        if MAX_DEMAND_KW in readings.columns:
            metered = pd.to_numeric(readings[MAX_DEMAND_KW], errors="coerce").to_numpy(float)
            demand[codes, offset] = metered[keep]
        return cls(ids, start, kwh, demand, day_kwh, day_hours)

    @property
    def n_days(self) -> int:
        return self.kwh.shape[1]

    def index(self, day: date) -> int:
        return (day - self.start).days

    def before(self, as_of: date) -> Cube:
        """The readings dated before `as_of` only (a view, no copy)."""
        stop = max(0, min(self.index(as_of), self.n_days))
        return Cube(
            self.customer_ids,
            self.start,
            self.kwh[:, :stop],
            self.demand_kw[:, :stop],
            self.day_kwh[:, :stop],
            self.day_hours[:, :stop],
        )

    def rows(self, rows: np.ndarray) -> Cube:
        return Cube(
            self.customer_ids[rows],
            self.start,
            self.kwh[rows],
            self.demand_kw[rows],
            self.day_kwh[rows],
            self.day_hours[rows],
        )

    def kwh_between(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """(C,) kWh read on days [lo, hi) and (C,) the share of their hours read."""
        a, b = max(lo, 0), min(hi, self.n_days)
        if b <= a:
            n = len(self.customer_ids)
            return np.zeros(n), np.zeros(n)
        share = self.day_hours[:, a:b].sum(axis=1) / (24 * max(hi - lo, 1))
        return self.day_kwh[:, a:b].sum(axis=1), share


def month_end(day: date) -> date:
    """The first day of the month after `day`'s."""
    return add_months(day.replace(day=1), 1)


def tier_period(tariff: Tariff, as_of: date) -> tuple[date, date]:
    """[start, end) of the period whose cumulative kWh sets the tiers on `as_of`; the
    month for tariffs without tiers (their bills are monthly)."""
    if tariff.tiers is not None and tariff.tiers.reset == "year":
        return date(as_of.year, 1, 1), date(as_of.year + 1, 1, 1)
    return as_of.replace(day=1), month_end(as_of)


def _mean_day(kwh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(C, 24) mean kWh per hour over the days of `kwh` (C, d, 24) and the (C,) share of
    its hours seen."""
    seen = ~np.isnan(kwh)
    counts = seen.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(seen, kwh, 0.0).sum(axis=1) / counts
    share = seen.sum(axis=(1, 2)) / max(kwh.shape[1] * 24, 1)
    return mean, share


def _window(cube: Cube, lo: int, hi: int) -> np.ndarray:
    """Days [lo, hi) of the cube, NaN outside it (a view when all inside)."""
    if 0 <= lo <= hi <= cube.n_days:
        return cube.kwh[:, lo:hi]
    out = np.full((len(cube.customer_ids), max(hi - lo, 0), 24), np.nan)
    a, b = max(lo, 0), min(hi, cube.n_days)
    if b > a:
        out[:, a - lo : b - lo] = cube.kwh[:, a:b]
    return out


def recent_profile(cube: Cube, as_of: date) -> tuple[np.ndarray, np.ndarray]:
    """(C, 2, 24) mean kWh by day type (working, rest) and hour over the `RECENT_DAYS`
    before `as_of`, and the (C,) share of that window's hours seen. A day type without
    readings takes the window's mean day."""
    end = cube.index(as_of)
    window = _window(cube, end - RECENT_DAYS, end)
    rest = rest_days(np.datetime64(as_of, "D") - RECENT_DAYS + np.arange(RECENT_DAYS))
    seen = ~np.isnan(window)
    values = np.where(seen, window, 0.0)
    sums = np.stack([values[:, ~rest].sum(axis=1), values[:, rest].sum(axis=1)], axis=1)
    counts = np.stack([seen[:, ~rest].sum(axis=1), seen[:, rest].sum(axis=1)], axis=1)
    coverage = counts.sum(axis=(1, 2)) / (RECENT_DAYS * 24)
    with np.errstate(invalid="ignore", divide="ignore"):
        overall = sums.sum(axis=1) / counts.sum(axis=1)
        profile = sums / counts
    profile = np.where(np.isnan(profile), overall[:, None, :], profile)
    known = ~np.isnan(profile)  # an hour never read in the window takes the mean hour
    counts = known.sum(axis=(1, 2))
    hourly = np.divide(
        np.where(known, profile, 0.0).sum(axis=(1, 2)),
        counts,
        out=np.full(len(counts), np.nan),
        where=counts > 0,
    )
    return np.where(known, profile, hourly[:, None, None]), coverage


def _kwh_per_day(cube: Cube, lo: int, hi: int) -> np.ndarray:
    """(C,) mean kWh per day over days [lo, hi), from the hours read; NaN when under
    `MIN_COVERAGE` of them were read."""
    kwh, share = cube.kwh_between(lo, hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_day = kwh / (share * max(hi - lo, 1))
    return np.where(share >= MIN_COVERAGE, per_day, np.nan)


def seasonal_factor(cube: Cube, as_of: date, spans: Sequence[tuple[date, date]]) -> np.ndarray:
    """(C, len(spans)) last year's change from the recent window to each span of days."""
    end = cube.index(as_of)
    recent = _kwh_per_day(cube, end - RECENT_DAYS - YEAR_DAYS, end - YEAR_DAYS)
    factors = []
    for lo, hi in spans:
        then = _kwh_per_day(cube, cube.index(lo) - YEAR_DAYS, cube.index(hi) - YEAR_DAYS)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = then / recent
        known = np.isfinite(ratio) & (recent > 0)
        shrunk = np.clip(1 + SEASON_SHRINK * (ratio - 1), *SEASON_BOUNDS)
        factors.append(np.where(known, shrunk, 1.0))
    return np.stack(factors, axis=1)


def forecast_days(
    cube: Cube, as_of: date, end: date, method: Method = Method.RECENT
) -> tuple[np.ndarray, np.ndarray]:
    """(C, days, 24) forecast kWh of the days [as_of, end) and the (C,) share of the
    recent window's hours seen. A customer the method cannot forecast has NaN days."""
    cube = cube.before(as_of)
    n = (end - as_of).days
    days = np.datetime64(as_of, "D") + np.arange(n)
    profile, coverage = recent_profile(cube, as_of)
    if method is Method.RECENT:
        first = min(month_end(as_of), end)
        spans = [(as_of, first)] + ([(first, end)] if first < end else [])
        factor = seasonal_factor(cube, as_of, spans)
        span_of_day = (days >= np.datetime64(first, "D")).astype(int)
        kwh = profile[:, rest_days(days).astype(int)] * factor[:, span_of_day, None]
    elif method is Method.RUN_RATE:
        kwh = _run_rate(cube, as_of, n)
    else:
        kwh = _last_year_scaled(cube, as_of, n)
    kwh = np.where(coverage[:, None, None] >= MIN_COVERAGE, kwh, np.nan)
    return kwh, coverage


def _run_rate(cube: Cube, as_of: date, n: int) -> np.ndarray:
    """(C, n, 24) the month-to-date mean day, every day; NaN without a day of the month."""
    mean, share = _mean_day(_window(cube, cube.index(as_of.replace(day=1)), cube.index(as_of)))
    mean = np.where((share > 0)[:, None], mean, np.nan)
    return np.broadcast_to(mean[:, None, :], (len(mean), n, 24)).copy()


def _last_year_scaled(cube: Cube, as_of: date, n: int) -> np.ndarray:
    """(C, n, 24) last year's same days (364 days earlier; a missing hour takes that hour's
    mean) times this month's kWh so far over the same hours last year."""
    today, first = cube.index(as_of), cube.index(as_of.replace(day=1))
    so_far = _window(cube, first, today)
    then = _window(cube, first - YEAR_DAYS, today - YEAR_DAYS)
    both = ~np.isnan(so_far) & ~np.isnan(then)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(both, so_far, 0).sum(axis=(1, 2)) / np.where(both, then, 0).sum(
            axis=(1, 2)
        )
    ahead = _window(cube, today - YEAR_DAYS, today - YEAR_DAYS + n)
    hour_mean, _ = _mean_day(np.concatenate([then, ahead], axis=1))
    ahead = np.where(np.isnan(ahead), hour_mean[:, None, :], ahead)
    return ahead * scale[:, None, None]


def measure_band(cube: Cube, as_of: date, months: int = BAND_MONTHS) -> Band:
    """P10 and P90 of actual / forecast kWh of the rest of the month, forecast on the same
    day of each of the `months` months before `as_of`'s, pooled over the customers."""
    cube = cube.before(as_of)
    ratios = []
    for back in range(1, months + 1):
        first = add_months(as_of.replace(day=1), -back)
        end = month_end(first)
        day = min(as_of.day, (end - first).days)
        then = first.replace(day=day)
        if cube.index(then) - RECENT_DAYS < 0:
            continue
        forecast, _ = forecast_days(cube, then, end)
        actual, share = cube.kwh_between(cube.index(then), cube.index(end))
        predicted = forecast.sum(axis=(1, 2))
        days = (end - then).days
        usable = (share >= MIN_COVERAGE) & (predicted >= MIN_BAND_KWH_PER_DAY * days)
        ratios.append(actual[usable] / predicted[usable])  # billed kWh: hours read only
    pooled = np.concatenate(ratios) if ratios else np.zeros(0)
    if len(pooled) < MIN_BAND_SAMPLES:
        return Band(np.nan, np.nan, len(pooled))
    low, high = np.quantile(pooled, BAND_QUANTILES)
    return Band(float(min(low, 1.0)), float(max(high, 1.0)), len(pooled))


def _layout(ids: np.ndarray, start: date, kwh: np.ndarray, demand: np.ndarray) -> HourlyReadings:
    """Customer-days of equal ranges from `start` laid out for the engine (missing hours
    left out and counted, as the engine's default)."""
    n_customers, n_days = kwh.shape[:2]
    dates = np.datetime64(start, "D") + np.arange(n_days)
    flat = kwh.reshape(n_customers * n_days, 24)
    missing = np.isnan(flat)
    values = np.where(missing, 0.0, flat)
    row_demand = demand.reshape(-1)
    months = dates.astype("datetime64[M]")
    first_of_month = np.flatnonzero(np.append(True, months[1:] != months[:-1]))
    return HourlyReadings(
        customer_ids=ids,
        dates=np.tile(dates, n_customers),
        kwh=values,
        row_missing=missing.sum(axis=1),
        row_demand_kw=np.where(np.isnan(row_demand), values.max(axis=1), row_demand),
        month_starts=(np.arange(n_customers)[:, None] * n_days + first_of_month).ravel(),
        month_customer=np.repeat(np.arange(n_customers), len(first_of_month)),
        filled=False,
    )


def tier_crossing(
    cube: Cube, tariff: Tariff, as_of: date, daily_kwh: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(C,) the 1-based tier on `as_of` and (C,) the first day from `as_of` on whose kWh
    passes into the next tier (NaT: not within `daily_kwh`'s days or the tier period),
    with `daily_kwh` (C, days) the kWh of the days from `as_of` on."""
    n = len(cube.customer_ids)
    cross = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    if tariff.tiers is None:
        return np.ones(n, dtype=int), cross
    start, period_end = tier_period(tariff, as_of)
    cube = cube.before(as_of)
    before, _ = cube.kwh_between(cube.index(start), cube.n_days)
    bounds = tariff.month_bounds[as_of.month - 1]
    tier = (bounds[None, :] <= before[:, None]).sum(axis=1)  # 0-based, the engine's rule
    upcoming = min(daily_kwh.shape[1], (period_end - as_of).days)
    after = before[:, None] + np.cumsum(daily_kwh[:, :upcoming], axis=1)
    crossed = after > np.append(bounds, np.inf)[tier][:, None]
    found = crossed.any(axis=1)
    cross[found] = np.datetime64(as_of, "D") + crossed[found].argmax(axis=1)
    return tier + 1, cross


def bill_month(
    cube: Cube, tariff: Tariff, as_of: date, forecast: np.ndarray, capacity: pd.Series | None
) -> np.ndarray:
    """(C,) the bill of `as_of`'s month: its actual readings before `as_of` and `forecast`
    (C, days, 24) from `as_of` to the month's end, billed on top of the tier period's kWh
    before the month.

    The kWh of the tier period before the month enter as one row on the month's eve (all
    in its first hour): the engine cumulates tiers from it exactly as from the days it
    sums, and bills only the month's days, whatever the day of the year.
    """
    cube = cube.before(as_of)
    start, _ = tier_period(tariff, as_of)
    first = as_of.replace(day=1)
    rest = forecast[:, : (month_end(as_of) - as_of).days]
    so_far = _window(cube, cube.index(first), cube.index(as_of))
    demand = _window_demand(cube, cube.index(first), cube.index(as_of))
    kwh = np.concatenate([so_far, rest], axis=1)
    demand = np.concatenate([demand, np.full(rest.shape[:2], np.nan)], axis=1)
    if start < first:
        eve = np.zeros((len(kwh), 1, 24))
        eve[:, 0, 0], _ = cube.kwh_between(cube.index(start), cube.index(first))
        kwh = np.concatenate([eve, kwh], axis=1)
        demand = np.concatenate([np.full((len(kwh), 1), np.nan), demand], axis=1)
        first -= timedelta(days=1)
    billed = bill_by_month(
        tariff, _layout(cube.customer_ids, first, kwh, demand), contract_capacity_kva=capacity
    )
    month = billed[billed["period"] == f"{as_of:%Y-%m}"].set_index(CUSTOMER_ID)["amount_cny"]
    return month.reindex(cube.customer_ids).to_numpy(dtype=float)


def _window_demand(cube: Cube, lo: int, hi: int) -> np.ndarray:
    """Metered maximum demand of days [lo, hi), NaN outside the cube."""
    out = np.full((len(cube.customer_ids), max(hi - lo, 0)), np.nan)
    a, b = max(lo, 0), min(hi, cube.n_days)
    if b > a:
        out[:, a - lo : b - lo] = cube.demand_kw[:, a:b]
    return out


_VOLUMES: Final = (
    ("bill_forecast_cny", "tier_cross_date"),
    ("bill_forecast_p10_cny", "tier_cross_latest"),
    ("bill_forecast_p90_cny", "tier_cross_earliest"),
)
"""Bill column and crossing column of each volume: the P50, P10 and P90 forecasts."""


def forecast_bills(
    cube: Cube,
    customers: pd.DataFrame,
    catalogue: TariffCatalogue,
    as_of: date,
    *,
    method: Method = Method.RECENT,
    band: Band = NO_BAND,
) -> pd.DataFrame:
    """The bill of `as_of`'s month for each customer of `customers` (``customer_id``,
    ``tariff_id``, optional ``contract_capacity_kva``) that the cube holds, at the forecast
    and at the band's volumes, and the next tier crossing; `FORECAST_COLUMNS`."""
    cube = cube.before(as_of)
    customers = customers.astype({CUSTOMER_ID: str}).drop_duplicates(CUSTOMER_ID)
    at = pd.Index(cube.customer_ids).get_indexer(customers[CUSTOMER_ID])
    customers, cube = customers[at >= 0].reset_index(drop=True), cube.rows(at[at >= 0])
    forecast, coverage = forecast_days(cube, as_of, add_months(as_of.replace(day=1), 2), method)
    in_month = (month_end(as_of) - as_of).days
    to_date, _ = cube.kwh_between(cube.index(as_of.replace(day=1)), cube.n_days)
    n = len(customers)
    out = pd.DataFrame(
        {
            CUSTOMER_ID: customers[CUSTOMER_ID].to_numpy(),
            "tariff_id": customers["tariff_id"].astype(str).to_numpy(),
            "month": f"{as_of:%Y-%m}",
            "kwh_to_date": to_date.round(3),
            "kwh_forecast": (to_date + forecast[:, :in_month].sum(axis=(1, 2))).round(3),
            **{bill: np.full(n, np.nan) for bill, _ in _VOLUMES},
            "tier": pd.array([pd.NA] * n, dtype="Int64"),
            "tier_next": pd.array([pd.NA] * n, dtype="Int64"),
            **{cross: np.full(n, np.datetime64("NaT"), "datetime64[s]") for _, cross in _VOLUMES},
            "reason": "",
        }
    )
    unforecast = np.isnan(forecast).all(axis=(1, 2))
    out.loc[unforecast, "reason"] = f"no {method} forecast from the readings before {as_of}"
    short = coverage < MIN_COVERAGE
    out.loc[short, "reason"] = [
        f"readings cover {c:.0%} of the hours of the {RECENT_DAYS} days before {as_of} "
        f"({MIN_COVERAGE:.0%} needed)"
        for c in coverage[short]
    ]
    unknown = ~out["tariff_id"].isin([t.id for t in catalogue]).to_numpy()
    out.loc[unknown, "reason"] = "tariff " + out.loc[unknown, "tariff_id"] + " is not known"
    capacity = (
        customers.set_index(CUSTOMER_ID)["contract_capacity_kva"]
        if "contract_capacity_kva" in customers.columns
        else None
    )
    volumes = dict(zip((bill for bill, _ in _VOLUMES), (1.0, band.low, band.high), strict=True))
    for tariff_id, index in out[out["reason"] == ""].groupby("tariff_id").groups.items():
        tariff, rows = catalogue.get(str(tariff_id)), np.asarray(index)
        mine = cube.rows(rows)
        for bill, cross in _VOLUMES:
            if np.isnan(volumes[bill]):
                continue
            days = np.nan_to_num(forecast[rows]) * volumes[bill]
            out.loc[rows, bill] = bill_month(mine, tariff, as_of, days, capacity)
            tier, crossing = tier_crossing(mine, tariff, as_of, days.sum(axis=2))
            if tariff.tiers is not None:
                out.loc[rows, cross] = crossing.astype("datetime64[s]")
                out.loc[rows, "tier"] = tier
                out.loc[rows, "tier_next"] = np.where(tier < tariff.n_tiers, tier + 1, -1)
    out.loc[out["tier_next"] == -1, "tier_next"] = pd.NA
    return out[list(FORECAST_COLUMNS)]


def usual_bills(bills: pd.DataFrame, month: str) -> pd.Series:
    """Each customer's usual bill for `month` (YYYY-MM) from the bills table: the same
    month a year earlier, else the median of the bills of the twelve months before. What a
    customer compares a bill with (and the generator's bill shock too)."""
    period = pd.Period(month, "M")
    earlier = bills[bills["period"].isin([str(period - k) for k in range(1, 13)])]
    earlier = earlier.astype({CUSTOMER_ID: str})
    year_ago = earlier[earlier["period"] == str(period - 12)].set_index(CUSTOMER_ID)["amount_cny"]
    median = earlier.groupby(CUSTOMER_ID)["amount_cny"].median()
    return year_ago.combine_first(median).rename("bill_usual_cny")


class Reason(StrEnum):
    """Why a month's bill is up, as far as the readings and the profile can tell."""

    TIER = "tier"  # part of the month falls in a higher tier (value: that tier)
    COOLING = "cooling"  # a summer rise in a home with air conditioning (value: the rise)
    HEATING = "heating"  # a winter rise in a home with electric heating (value: the rise)
    EV = "ev"  # a detected EV charger, and the rise in its hours (value: their share)
    EVENING = "evening"  # the rise is in the evening (value: rise of evening use)
    HIGHER_USE = "higher_use"  # none of the above (value: the rise)


REASON_MIN_RISE: Final = 0.1
"""A month forecast to use at least 10 % more than the usual month has its rise explained."""
REASON_HOURS_SHARE: Final = 0.5
"""Hours holding at least half of the rise name it (the evening, the EV's hours)."""
EVENING_HOURS: Final = tuple(BANDS["evening"])
EV_HOURS: Final = (*EV_EVENING_HOURS, *BANDS["night"])
"""When the generator's and real home chargers run: the evening and on through the night."""
MAX_REASONS: Final = 3


def explain(cube: Cube, as_of: date, forecast: pd.DataFrame, appliances: pd.DataFrame) -> list[str]:
    """Why each row of `forecast` (`forecast_bills` output) is up: a JSON list, most
    telling first, of at most `MAX_REASONS` ``{"code": Reason, "value": number}``.

    The month (the readings so far and the forecast of the rest) is compared hour by hour
    with the usual month: the same month a year earlier when read, else the year before
    the month. `appliances` (by customer_id) holds the profile's ``has_ev_charger``,
    ``has_air_conditioning`` and ``has_electric_heating``. Weather is not in the lake: a
    rise in summer in a home with air conditioning is the heat's doing as far as can be
    told, and is said so.
    """
    cube = cube.before(as_of)
    rows = pd.Index(cube.customer_ids).get_indexer(forecast[CUSTOMER_ID].astype(str))
    if (rows < 0).any():
        raise ContractError("explain: some forecast customers are not in the readings")
    cube = cube.rows(rows)
    first, end = as_of.replace(day=1), month_end(as_of)
    days, _ = forecast_days(cube, as_of, end)
    so_far = _window(cube, cube.index(first), cube.index(as_of))
    now, _ = _mean_day(np.concatenate([so_far, days], axis=1))
    year_ago = add_months(first, -12)
    same_month, share = _mean_day(
        _window(cube, cube.index(year_ago), cube.index(month_end(year_ago)))
    )
    usual = same_month
    unread = np.flatnonzero(share < MIN_COVERAGE)  # no same month last year: the year before
    if len(unread):
        usual[unread], _ = _mean_day(
            _window(cube.rows(unread), cube.index(year_ago), cube.index(first))
        )
    excess = now - usual
    with np.errstate(invalid="ignore", divide="ignore"):
        rise = excess.sum(axis=1) / usual.sum(axis=1)
        up = np.clip(excess, 0, None)
        evening = up[:, EVENING_HOURS].sum(axis=1) / up.sum(axis=1)
        ev_hours = up[:, EV_HOURS].sum(axis=1) / up.sum(axis=1)
        evening_rise = excess[:, EVENING_HOURS].sum(axis=1) / usual[:, EVENING_HOURS].sum(axis=1)
    flags = appliances.reindex(forecast[CUSTOMER_ID].astype(str))
    flag = {
        name: flags[name].fillna(False).astype(bool).to_numpy()
        if name in flags
        else np.zeros(len(rows), dtype=bool)
        for name in ("has_ev_charger", "has_air_conditioning", "has_electric_heating")
    }
    crossing = pd.to_datetime(forecast["tier_cross_date"]).to_numpy()
    in_month = crossing < np.datetime64(end)
    found: list[str] = []
    for i in range(len(rows)):
        reasons: list[tuple[Reason, float]] = []
        if np.isfinite(rise[i]) and rise[i] >= REASON_MIN_RISE:
            if as_of.month in SUMMER_MONTHS and flag["has_air_conditioning"][i]:
                reasons.append((Reason.COOLING, rise[i]))
            if as_of.month in WINTER_MONTHS and flag["has_electric_heating"][i]:
                reasons.append((Reason.HEATING, rise[i]))
            if flag["has_ev_charger"][i] and ev_hours[i] >= REASON_HOURS_SHARE:
                reasons.append((Reason.EV, ev_hours[i]))
            elif evening[i] >= REASON_HOURS_SHARE and np.isfinite(evening_rise[i]):
                reasons.append((Reason.EVENING, evening_rise[i]))
            if not reasons:
                reasons.append((Reason.HIGHER_USE, rise[i]))
        if in_month[i]:
            reasons.insert(0, (Reason.TIER, float(forecast["tier_next"].iloc[i])))
        found.append(
            json.dumps(
                [{"code": str(code), "value": round(float(v), 3)} for code, v in reasons][
                    :MAX_REASONS
                ]
            )
        )
    return found
