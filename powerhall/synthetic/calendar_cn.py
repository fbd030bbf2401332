"""Chinese public holidays for the load shapes, with a documented fallback.

`chinese_calendar` ships the State Council's announced holidays and make-up working days
(调休) for the years it knows, and raises for any other year, because the lunar holidays
and the make-up days are only fixed by each year's notice. For an unknown year we borrow
the month-day layout of the nearest known year (so the Spring Festival of 2027 falls on
the dates of 2026's), log a warning once per year, and record the borrowed year in the
manifest. Load shapes stay plausible; exact holiday dates for those years are not claimed.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar
import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

SPRING_FESTIVAL = chinese_calendar.Holiday.spring_festival.value
_FIRST_KNOWN = min(chinese_calendar.holidays).year
_LAST_KNOWN = max(chinese_calendar.holidays).year

SPRING_FESTIVAL_LEAD_DAYS = 7
"""Commercial and industrial activity falls in the week before the official holiday..."""
SPRING_FESTIVAL_TAIL_DAYS = 14
"""...and recovers over two weeks after it, as migrant workers return (after 元宵节)."""


@dataclass(frozen=True)
class YearCalendar:
    year: int
    holidays: dict[dt.date, str]
    """Official days off, weekend days inside a holiday period included."""
    makeup_workdays: frozenset[dt.date]
    """Weekend days declared working days to bridge a holiday."""
    borrowed_from: int | None
    """The known year whose dates were reused, for a year `chinese_calendar` lacks."""


def _shift(day: dt.date, year: int) -> dt.date | None:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February of a leap reference year
        return None


@lru_cache(maxsize=64)
def year_calendar(year: int) -> YearCalendar:
    if _FIRST_KNOWN <= year <= _LAST_KNOWN:
        holidays = {d: n for d, n in chinese_calendar.holidays.items() if d.year == year}
        makeup = frozenset(d for d in chinese_calendar.workdays if d.year == year)
        return YearCalendar(year, holidays, makeup, None)
    reference = _LAST_KNOWN if year > _LAST_KNOWN else _FIRST_KNOWN
    logger.warning(
        "chinese_calendar has no holidays for %d; reusing the dates of %d", year, reference
    )
    known = year_calendar(reference)
    holidays = {s: n for d, n in known.holidays.items() if (s := _shift(d, year)) is not None}
    makeup = frozenset(s for d in known.makeup_workdays if (s := _shift(d, year)) is not None)
    return YearCalendar(year, holidays, makeup, reference)


def borrowed_years(dates: pd.DatetimeIndex) -> dict[int, int]:
    """Years of `dates` generated with a borrowed calendar, and the year each borrowed."""
    result = {}
    for year in sorted(set(dates.year)):
        borrowed = year_calendar(int(year)).borrowed_from
        if borrowed is not None:
            result[int(year)] = borrowed
    return result


def spring_festival_closure(dates: pd.DatetimeIndex) -> np.ndarray:
    """How far each day is into the Spring Festival shutdown: 1 on the official holiday,
    ramping up over the lead week and back down over the two weeks after, else 0."""
    closure = np.zeros(len(dates))
    day_numbers = (dates - dates[0]).days.to_numpy()
    for year in range(dates[0].year, dates[-1].year + 1):
        festival = sorted(
            d for d, name in year_calendar(year).holidays.items() if name == SPRING_FESTIVAL
        )
        if not festival:
            continue
        first = (pd.Timestamp(festival[0]) - dates[0]).days
        last = (pd.Timestamp(festival[-1]) - dates[0]).days
        lead = np.clip(
            (day_numbers - (first - SPRING_FESTIVAL_LEAD_DAYS)) / SPRING_FESTIVAL_LEAD_DAYS, 0, 1
        )
        tail = np.clip(1 - (day_numbers - last) / SPRING_FESTIVAL_TAIL_DAYS, 0, 1)
        inside = np.where(day_numbers < first, lead, np.where(day_numbers > last, tail, 1.0))
        window = (day_numbers >= first - SPRING_FESTIVAL_LEAD_DAYS) & (
            day_numbers <= last + SPRING_FESTIVAL_TAIL_DAYS
        )
        closure = np.maximum(closure, np.where(window, inside, 0.0))
    return closure
