"""The generated window: days, billing months and local-to-UTC timestamps.

Every time is made from a day index and a local hour. China Standard Time has had no
daylight saving since 1991, so local time is UTC+8 throughout and timestamps are exact
integer arithmetic (microseconds since the epoch), which keeps them vectorised.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from powerhall.contract import LOCAL_TIMEZONE

US_PER_HOUR: Final = 3_600_000_000
US_PER_DAY: Final = 24 * US_PER_HOUR
_EPOCH: Final = dt.date(1970, 1, 1)
_UTC_OFFSET_US: Final = int(
    ZoneInfo(LOCAL_TIMEZONE).utcoffset(dt.datetime(2000, 1, 1)).total_seconds() * 1_000_000  # type: ignore[union-attr]
)


@dataclass(frozen=True)
class Timeline:
    """`days` consecutive local dates ending on `end` (inclusive)."""

    end: dt.date
    days: int

    @property
    def start(self) -> dt.date:
        return self.end - dt.timedelta(days=self.days - 1)

    @cached_property
    def dates(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, periods=self.days, freq="D")

    @cached_property
    def epoch_day(self) -> np.ndarray:
        """Days since 1970-01-01 of each day (the int32 behind Arrow's date32)."""
        return np.arange(self.days, dtype=np.int32) + (self.start - _EPOCH).days

    @cached_property
    def day_of_year(self) -> np.ndarray:
        return self.dates.dayofyear.to_numpy()

    @cached_property
    def weekday(self) -> np.ndarray:
        return self.dates.weekday.to_numpy()

    @cached_property
    def day_month(self) -> np.ndarray:
        """Index into `periods` of each day's calendar month."""
        month_number = self.dates.year.to_numpy() * 12 + self.dates.month.to_numpy() - 1
        return (month_number - month_number[0]).astype(np.int64)

    @cached_property
    def periods(self) -> list[str]:
        """Billing periods ``YYYY-MM`` touched by the window, in order."""
        return list(pd.period_range(self.start, self.end, freq="M").strftime("%Y-%m"))

    @cached_property
    def month_first_day(self) -> np.ndarray:
        """Day index where each month starts inside the window (0 for a partial first)."""
        return np.searchsorted(self.day_month, np.arange(len(self.periods)))

    @cached_property
    def month_last_day(self) -> np.ndarray:
        """Day index of each month's last day (day index past the window when cut off)."""
        first = pd.period_range(self.start, self.end, freq="M").to_timestamp()
        last = first + pd.offsets.MonthEnd(0)
        return ((last - pd.Timestamp(self.start)).days).to_numpy()

    def day_after_month(self, months: np.ndarray, day_of_next_month: int) -> np.ndarray:
        """Day index of the given day of the month after each of `months` (may pass the end)."""
        return self.month_last_day[months] + day_of_next_month

    def utc_us(self, day: np.ndarray, local_hour: np.ndarray | float) -> np.ndarray:
        """UTC microseconds since the epoch of a local day index and fractional hour."""
        local = (self.epoch_day[0] + np.asarray(day, dtype=np.int64)) * US_PER_DAY
        hours = np.asarray(local_hour, dtype=np.float64) * US_PER_HOUR
        return local + np.round(hours).astype(np.int64) - _UTC_OFFSET_US

    def epoch_days(self, day: np.ndarray) -> np.ndarray:
        """Days since the epoch of day indexes (for date32 columns such as due dates)."""
        return (self.epoch_day[0] + np.asarray(day, dtype=np.int64)).astype(np.int32)
