"""What if the customer moved some evening use, or their EV charging, to valley hours?

The simulator bills the same 12-month forecast as the tariff advice (`training.
tariff_forecast`): the customer's mean kWh by calendar month, day type and hour. A habit
change is a change of that profile, so it is made there and the forecast is billed again
by the same engine; nothing here prices a kWh.

- **Valley hours** are the hours every eligible time-of-use tariff prices at its lowest
  (first-tier) price, month by month, so that moved kWh land in the valley of whichever
  tariff is billed. Without a time-of-use tariff (a shift then changes no bill) they are
  the profile's valley band, 22:00-06:00.
- **Evening** is the profile's evening band (18:00-24:00), less the hours already in
  the valley: moving those would change nothing.
- **EV charging** is found as the profile finds an EV charger (`features.profiles.
  catalogue`): an evening hour that rises by at least `EV_STEP_KWH` over the hour before
  and at least doubles it starts a session; the session's kWh are each hour's excess
  over that hour before, for as long as the excess stays at least half the step (a
  session's last, partial hour below that stays where it is). Only the session hours
  outside the valley are moved; a charger already on a valley timer moves nothing.
- EV kWh are taken out before the evening share is applied, so that one kWh is never
  moved twice. Moved kWh are spread evenly over the same day's valley hours.
- A demand charge stays priced on last year's metered maxima: a shift that would raise
  the night's peak above them is not priced (two-part tariffs; homes have none).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Final

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from features.profiles.catalogue import (
    BANDS,
    EV_DAYS_SHARE,
    EV_EVENING_HOURS,
    EV_STEP_KWH,
    VALLEY_HOURS,
)
from powerhall.tariffs import Tariff
from training.tariff_forecast import History, add_months, rest_days

EVENING_HOURS: Final = tuple(BANDS["evening"])
SESSION_END_KWH: Final = EV_STEP_KWH / 2
"""A charging session runs while its hour's excess over the hour before it started is at
least this: a 7 kW charger's last part-hour may fall below it and is left in place."""
EV_RECENT_DAYS: Final = 90
"""Days the profile's EV detection looks back (``has_ev_charger``: last 90 days)."""


class Shift(BaseModel):
    """The habit change to price: shares of evening use and of EV charging moved to valley
    hours (0 = unchanged, 1 = all of it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    evening_share: float = Field(
        0.0,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Share of the evening's (18:00-24:00) non-valley use, EV charging aside, "
        "moved to valley hours.",
        examples=[0.3],
    )
    ev_share: float = Field(
        0.0,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Share of the detected EV charging outside valley hours moved to them "
        "(nothing moves without a detected charger).",
        examples=[1.0],
    )


def valley_hours(tariffs: list[Tariff]) -> np.ndarray:
    """(12, 24) True for the hours of each calendar month that every time-of-use tariff
    of `tariffs` prices lowest; the valley band where none does (see module doc)."""
    fallback = np.zeros(24, dtype=bool)
    fallback[list(VALLEY_HOURS)] = True
    mask = np.ones((12, 24), dtype=bool)
    time_of_use = [t for t in tariffs if t.is_time_of_use]
    for tariff in time_of_use:
        first_tier = tariff.prices[:, 0]
        mask &= np.isin(tariff.hour_periods, np.flatnonzero(first_tier == first_tier.min()))
    if not time_of_use:
        mask[:] = fallback
    mask[~mask.any(axis=1)] = fallback
    return mask


def ev_charging_kwh(kwh: np.ndarray) -> np.ndarray:
    """(R, 24) kWh of each day's first EV charging session (see module doc); NaN where
    `kwh` (R, 24) is missing, 0 outside sessions."""
    starts = np.full(len(kwh), -1)
    with np.errstate(invalid="ignore"):
        for hour in reversed(EV_EVENING_HOURS):  # the earliest qualifying hour wins
            before = kwh[:, hour - 1]
            step = (kwh[:, hour] - before >= EV_STEP_KWH) & (kwh[:, hour] >= 2 * before)
            starts[step] = hour
    ev = np.zeros_like(kwh, dtype=float)
    rows = np.flatnonzero(starts >= 0)
    if len(rows):
        first = starts[rows, None]
        excess = kwh[rows] - kwh[rows, starts[rows] - 1][:, None]
        after = np.arange(24)[None, :] >= first
        with np.errstate(invalid="ignore"):
            charging = after & (excess >= SESSION_END_KWH)
        running = np.cumprod(charging | ~after, axis=1).astype(bool) & after
        ev[rows] = np.where(running, excess, 0.0)
    return np.where(np.isnan(kwh), np.nan, ev)


def charges_ev(ev_kwh: np.ndarray, days: np.ndarray, cutoff: date) -> bool:
    """The profile's rule on the days before `cutoff`: sessions on at least
    `EV_DAYS_SHARE` of the last `EV_RECENT_DAYS` days with readings."""
    recent = days >= np.datetime64(cutoff, "D") - EV_RECENT_DAYS
    seen = ~np.isnan(ev_kwh[recent]).all(axis=1)
    if not seen.any():
        return False
    sessions = (np.nan_to_num(ev_kwh[recent]) > 0).any(axis=1)
    return bool(sessions[seen].mean() >= EV_DAYS_SHARE)


@dataclass(frozen=True)
class Shifted:
    """A forecast with the shift made, and what was moved."""

    history: History
    moved_kwh: float
    """kWh of the forecast year (P50) moved into valley hours."""
    ev_hours: tuple[int, ...]
    """Hours of day, outside the valley, in which the EV charges (empty without a charger)."""


def shift_history(
    hist: History,
    ev: History | None,
    shift: Shift,
    valley: np.ndarray,
) -> Shifted:
    """`hist` (one customer) with `shift` made to its profile. `ev` is the history of the
    EV sessions' kWh (`ev_charging_kwh` of the same readings), None without a charger;
    `valley` is `valley_hours` of the tariffs to be billed."""
    profile = hist.profile  # (C, 12 months, 2 day types, 24 hours)
    ev_part = np.zeros_like(profile) if ev is None else np.minimum(ev.profile, profile)
    in_valley = valley[None, :, None, :]
    evening = np.zeros(24, dtype=bool)
    evening[list(EVENING_HOURS)] = True
    moved = np.where(evening & ~in_valley, (profile - ev_part) * shift.evening_share, 0.0)
    moved += np.where(~in_valley, ev_part * shift.ev_share, 0.0)
    per_day = moved.sum(axis=-1, keepdims=True)
    spread = np.where(in_valley, per_day / in_valley.sum(axis=-1, keepdims=True), 0.0)
    shifted = replace(hist, profile=profile - moved + spread)
    ev_hours = np.flatnonzero((ev_part * ~in_valley).sum(axis=(0, 1, 2)) > 0)
    yearly = (per_day[..., 0] * forecast_days(hist.cutoff)).sum(axis=(1, 2)) * hist.trend
    return Shifted(shifted, float(yearly.sum()), tuple(int(h) for h in ev_hours))


def forecast_days(cutoff: date, months: int = 12) -> np.ndarray:
    """(12, 2) days of each calendar month and day type (working, rest) in the forecast."""
    start = np.datetime64(cutoff, "D")
    days = np.arange(start, np.datetime64(add_months(cutoff, months), "D"))
    month = days.astype("datetime64[M]").astype(int) % 12
    counts = np.zeros((12, 2))
    np.add.at(counts, (month, rest_days(days).astype(int)), 1)
    return counts
