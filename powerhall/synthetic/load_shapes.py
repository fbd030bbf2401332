"""Hourly shapes of consumption: published standard load profiles and appliance curves.

The base shapes are the BDEW standard load profiles as shipped by demandlib (H0 for
households, G0-G6 for kinds of business) and demandlib's industrial step profile for
factories, computed once per year with the Chinese holidays as rest days. BDEW gives
weekday, Saturday and Sunday shapes by season; a make-up working day (调休) on a weekend
takes the shape of the nearest regular working day. Each shape is scaled so that its
average day sums to 1 kWh, and a customer's base load is that shape times its daily kWh.
"""

from __future__ import annotations

import datetime as dt
import warnings
from functools import lru_cache
from typing import Final

import numpy as np
import pandas as pd
from demandlib import bdew
from demandlib.particular_profiles import IndustrialLoadProfile

from powerhall.contract import Segment
from powerhall.synthetic.calendar_cn import year_calendar
from powerhall.synthetic.timeline import Timeline

BDEW_PROFILES: Final = ("h0", "g0", "g1", "g2", "g3", "g4", "g5", "g6")
INDUSTRIAL_PROFILES: Final[dict[str, dict[str, object]]] = {
    # one day shift, idle nights and weekends
    "ind_day_shift": {
        "am": dt.time(7, 30),
        "pm": dt.time(18, 0),
        "profile_factors": {
            "week": {"day": 1.0, "night": 0.3},
            "weekend": {"day": 0.45, "night": 0.28},
            "holiday": {"day": 0.3, "night": 0.25},
        },
    },
    # two shifts, demandlib's default factors
    "ind_two_shift": {"am": dt.time(6, 0), "pm": dt.time(22, 0)},
}
PROFILES: Final = (*BDEW_PROFILES, *INDUSTRIAL_PROFILES)
"""Every base shape, in the order of the arrays `shapes_for` returns."""

SEGMENT_PROFILES: Final[dict[Segment, dict[str, float]]] = {
    Segment.RESIDENTIAL: {"h0": 1.0},
    # general, office hours, evening, continuous, shop, bakery, weekend business
    Segment.COMMERCIAL: {
        "g0": 0.3,
        "g1": 0.25,
        "g2": 0.1,
        "g3": 0.1,
        "g4": 0.15,
        "g5": 0.03,
        "g6": 0.07,
    },
    Segment.INDUSTRIAL: {"ind_day_shift": 0.45, "ind_two_shift": 0.35, "g3": 0.2},
}

# Appliance curves: share of a day's appliance kWh in each local hour (own assumptions,
# shaped after typical Chinese household and office routines).
_AC_HOME = np.array(
    [5, 5, 4, 4, 3, 3, 2, 2, 2, 2, 3, 4, 5, 6, 6, 6, 5, 5, 6, 7, 8, 8, 7, 6], dtype=float
)
_HEAT_HOME = np.array(
    [3, 3, 3, 3, 3, 4, 7, 8, 6, 3, 2, 2, 2, 2, 2, 2, 3, 5, 7, 8, 8, 7, 6, 4], dtype=float
)
_WORK_HOURS = np.array([0.2] * 8 + [1.0] * 10 + [0.4] * 2 + [0.2] * 4, dtype=float)
AC_HOME: Final = (_AC_HOME / _AC_HOME.sum()).astype(np.float32)
HEAT_HOME: Final = (_HEAT_HOME / _HEAT_HOME.sum()).astype(np.float32)
HVAC_BUSINESS: Final = (_WORK_HOURS / _WORK_HOURS.sum()).astype(np.float32)


def _daily(series: pd.Series) -> np.ndarray:
    hourly = series.resample("h").sum().to_numpy()
    return hourly.reshape(-1, 24)


def _bridge_makeup_workdays(shapes: np.ndarray, dates: pd.DatetimeIndex, year: int) -> None:
    calendar = year_calendar(year)
    holidays = set(calendar.holidays)
    regular = [
        i
        for i, d in enumerate(dates.date)
        if d.weekday() < 5 and d not in holidays and d not in calendar.makeup_workdays
    ]
    for day in calendar.makeup_workdays:
        i = (pd.Timestamp(day) - dates[0]).days
        nearest = min(regular, key=lambda j: abs(j - i))
        shapes[:, i] = shapes[:, nearest]


@lru_cache(maxsize=8)
def year_shapes(year: int) -> np.ndarray:
    """(profile, day of year, hour) kWh shapes of one year; the mean daily sum is 1."""
    holidays = year_calendar(year).holidays
    with warnings.catch_warnings():
        # demandlib switches warnings to errors globally while it builds the frame.
        warnings.simplefilter("ignore")
        slp = bdew.ElecSlp(year, holidays=holidays).get_profiles(*BDEW_PROFILES)
    columns = [_daily(slp[name]) for name in BDEW_PROFILES]
    hours = pd.date_range(dt.datetime(year, 1, 1), dt.datetime(year, 12, 31, 23), freq="h")
    for options in INDUSTRIAL_PROFILES.values():
        profile = IndustrialLoadProfile(hours, holidays=holidays)
        columns.append(profile.simple_profile(1.0, **options).to_numpy().reshape(-1, 24))
    shapes = np.stack(columns)
    dates = pd.date_range(dt.date(year, 1, 1), periods=shapes.shape[1], freq="D")
    _bridge_makeup_workdays(shapes, dates, year)
    shapes *= shapes.shape[1] / shapes.sum(axis=(1, 2), keepdims=True)
    result = shapes.astype(np.float32)
    result.setflags(write=False)
    return result


def shapes_for(timeline: Timeline) -> np.ndarray:
    """(profile, day, hour) shapes over the window, stitched from the years it spans."""
    years = timeline.dates.year.to_numpy()
    day_of_year = timeline.day_of_year - 1
    out = np.empty((len(PROFILES), timeline.days, 24), dtype=np.float32)
    for year in np.unique(years):
        days = years == year
        out[:, days] = year_shapes(int(year))[:, day_of_year[days]]
    return out
