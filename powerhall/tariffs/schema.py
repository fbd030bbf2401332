"""The tariff file format (DESIGN.md, "Tariffs as data") as validated pydantic models.

A tariff file is plain YAML an operator can edit. Everything the engine relies on is
checked here, once, so that billing never meets a half-valid tariff: hours of each
time-of-use schedule cover the day exactly once, every period has one price per tier,
numbers are non-negative and unknown keys are refused (a typo must not be ignored).

Extensions beyond DESIGN.md's example, all optional, for real Chinese tariffs:

- ``tiers.seasonal_bounds_kwh``: other tier bounds in some months (e.g. monthly tiers with
  higher summer bounds); needs ``reset: month``.
- ``seasonal_periods``: other time-of-use hours in some months (e.g. sharp-peak 尖峰 hours
  only in July and August); the top-level ``periods`` hold for every other month.
- metadata: ``name_en``, ``region``, ``source`` (the notice the figures come from) and
  ``illustrative`` (figures show the structure, not the current month's prices).
"""

from __future__ import annotations

import re
from datetime import date
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.functional_validators import AfterValidator

from powerhall.contract import Region, Segment
from powerhall.errors import TariffError
from powerhall.validation import describe_error, read_yaml_mapping

ALL_HOURS = "all"
"""Price key of a tariff without time-of-use periods."""

MONTHS = tuple(range(1, 13))
_HOUR_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")

NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
PeriodName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


def _hours_of(text: str) -> list[int]:
    """Hours covered by ``"HH:MM-HH:MM"`` ([start, end), may wrap past midnight)."""
    match = _HOUR_RANGE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a range like '08:00-22:00'")
    start_h, start_m, end_h, end_m = (int(g) for g in match.groups())
    if start_m or end_m:
        raise ValueError(f"{text!r}: readings are hourly, so ranges must start and end on the hour")
    if start_h > 23 or end_h > 24:
        raise ValueError(f"{text!r}: hours run from 00:00 to 24:00")
    if start_h == end_h % 24:
        if (start_h, end_h) != (0, 24):
            raise ValueError(f"{text!r} is empty or ambiguous; write '00:00-24:00' for a whole day")
        return list(range(24))
    if start_h < end_h:
        return list(range(start_h, end_h))
    return [*range(start_h, 24), *range(end_h % 24)]


def _check_months(months: list[int]) -> list[int]:
    if not months:
        raise ValueError("needs at least one month")
    if any(m not in MONTHS for m in months):
        raise ValueError(f"months must be 1-12, got {months}")
    if len(set(months)) != len(months):
        raise ValueError(f"a month is listed twice in {months}")
    return months


def _check_bounds(bounds: list[float]) -> list[float]:
    if any(upper <= lower for lower, upper in pairwise(bounds)):
        raise ValueError(f"tier bounds must increase strictly, got {bounds}")
    return bounds


Months = Annotated[list[int], AfterValidator(_check_months)]
Bounds = Annotated[list[Positive], AfterValidator(_check_bounds)]
Schedule = dict[PeriodName, list[str]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeasonalBounds(_Strict):
    months: Months
    bounds_kwh: Bounds = Field(min_length=1)


class Tiers(_Strict):
    """Block pricing: a kWh's tier is set by the cumulative kWh of its reset period."""

    reset: Literal["year", "month"]
    bounds_kwh: Bounds = Field(min_length=1, description="Upper bounds of all but the last tier.")
    seasonal_bounds_kwh: list[SeasonalBounds] = Field(default_factory=list)

    @model_validator(mode="after")
    def _seasons_agree(self) -> Tiers:
        if self.seasonal_bounds_kwh and self.reset != "month":
            raise ValueError(
                "seasonal_bounds_kwh: bounds that change with the month need 'reset: month'"
            )
        seen: set[int] = set()
        for i, season in enumerate(self.seasonal_bounds_kwh):
            if len(season.bounds_kwh) != len(self.bounds_kwh):
                raise ValueError(
                    f"seasonal_bounds_kwh.{i}.bounds_kwh: has {len(season.bounds_kwh)} bounds, "
                    f"bounds_kwh has {len(self.bounds_kwh)} (every month needs the same tiers)"
                )
            if twice := seen & set(season.months):
                raise ValueError(f"seasonal_bounds_kwh.{i}.months: {sorted(twice)} given twice")
            seen |= set(season.months)
        return self


class SeasonalPeriods(_Strict):
    months: Months
    periods: Schedule


class DemandCharge(_Strict):
    """Second part of a two-part tariff, charged per month."""

    basis: Literal["capacity_kva", "max_demand_kw"]
    cny_per_unit_month: NonNegative


def _schedule_hours(schedule: Schedule, where: str) -> list[str]:
    """Period name of each hour of the day; rejects overlaps and gaps with the hours named."""
    owner: dict[int, str] = {}
    for name, ranges in schedule.items():
        if not ranges:
            raise ValueError(f"{where}.{name}: no hours given")
        for text in ranges:
            try:
                hours = _hours_of(text)
            except ValueError as exc:
                raise ValueError(f"{where}.{name}: {exc}") from None
            for hour in hours:
                if hour in owner:
                    raise ValueError(
                        f"{where}: hour {hour:02d}:00 is in both {owner[hour]!r} and {name!r}"
                    )
                owner[hour] = name
    if uncovered := sorted(set(range(24)) - owner.keys()):
        listed = ", ".join(f"{h:02d}:00" for h in uncovered)
        raise ValueError(f"{where}: hours not covered by any period: {listed}")
    return [owner[hour] for hour in range(24)]


class Tariff(_Strict):
    """One tariff file. Build it with `load_tariff` (or `Tariff.model_validate`)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1, description="Customer-facing name, zh-CN.")
    name_en: str | None = None
    segment: Segment
    region: Region | None = None
    currency: Literal["CNY"]
    effective_from: date
    source: str | None = Field(None, description="The published notice the figures come from.")
    illustrative: bool = Field(False, description="Real structure, figures not current.")
    tiers: Tiers | None = None
    periods: Schedule | None = None
    seasonal_periods: list[SeasonalPeriods] = Field(default_factory=list)
    prices_cny_per_kwh: dict[str, list[NonNegative]]
    demand_charge: DemandCharge | None = None
    fixed_cny_per_month: NonNegative = 0.0

    @model_validator(mode="after")
    def _consistent(self) -> Tariff:
        if self.seasonal_periods and self.periods is None:
            raise ValueError("seasonal_periods: needs 'periods' for the other months")
        seen: set[int] = set()
        for i, season in enumerate(self.seasonal_periods):
            if twice := seen & set(season.months):
                raise ValueError(f"seasonal_periods.{i}.months: {sorted(twice)} given twice")
            seen |= set(season.months)
        self._schedules()  # raises on overlaps and gaps

        expected = set(self.period_names)
        given = set(self.prices_cny_per_kwh)
        if missing := [p for p in self.period_names if p not in given]:
            raise ValueError(f"prices_cny_per_kwh: no prices for period(s) {', '.join(missing)}")
        if extra := sorted(given - expected):
            hint = " (a tariff with periods prices each period, not 'all')" if self.periods else ""
            raise ValueError(f"prices_cny_per_kwh: unknown period(s) {', '.join(extra)}{hint}")
        for name, prices in self.prices_cny_per_kwh.items():
            if len(prices) != self.n_tiers:
                raise ValueError(
                    f"prices_cny_per_kwh.{name}: has {len(prices)} price(s) but the tariff has "
                    f"{self.n_tiers} tier(s)"
                )
        return self

    def _schedules(self) -> list[tuple[list[int], list[str]]]:
        """(months, period name per hour) for each time-of-use schedule."""
        if self.periods is None:
            return []
        overridden = {m for s in self.seasonal_periods for m in s.months}
        base = [m for m in MONTHS if m not in overridden]
        schedules = [(base, _schedule_hours(self.periods, "periods"))] if base else []
        for i, season in enumerate(self.seasonal_periods):
            hours = _schedule_hours(season.periods, f"seasonal_periods.{i}.periods")
            schedules.append((season.months, hours))
        return schedules

    @cached_property
    def period_names(self) -> tuple[str, ...]:
        """The periods of every schedule (or just ``all``), in the order prices list them."""
        if self.periods is None:
            return (ALL_HOURS,)
        used = dict.fromkeys(self.periods)
        for season in self.seasonal_periods:
            used.update(dict.fromkeys(season.periods))
        priced = [name for name in self.prices_cny_per_kwh if name in used]
        return (*priced, *(name for name in used if name not in priced))

    @property
    def n_tiers(self) -> int:
        return 1 if self.tiers is None else len(self.tiers.bounds_kwh) + 1

    @property
    def is_time_of_use(self) -> bool:
        return self.periods is not None

    @cached_property
    def hour_periods(self) -> np.ndarray:
        """(12, 24) index into `period_names` for each calendar month and hour."""
        table = np.zeros((12, 24), dtype=np.intp)
        for months, hours in self._schedules():
            table[np.array(months) - 1] = [self.period_names.index(name) for name in hours]
        table.flags.writeable = False
        return table

    @cached_property
    def prices(self) -> np.ndarray:
        """(n_periods, n_tiers) CNY/kWh, rows in `period_names` order."""
        table = np.array([self.prices_cny_per_kwh[p] for p in self.period_names], dtype=float)
        table.flags.writeable = False
        return table

    @cached_property
    def month_bounds(self) -> np.ndarray:
        """(12, n_tiers - 1) upper tier bounds in kWh for each calendar month."""
        if self.tiers is None:
            table = np.zeros((12, 0))
        else:
            table = np.tile(np.array(self.tiers.bounds_kwh, dtype=float), (12, 1))
            for season in self.tiers.seasonal_bounds_kwh:
                table[np.array(season.months) - 1] = season.bounds_kwh
        table.flags.writeable = False
        return table


def load_tariff(path: str | Path) -> Tariff:
    """Read and validate one tariff file; every problem names the file and the field."""
    path = Path(path)
    raw = read_yaml_mapping(
        path, what="tariff file", error=TariffError, top_level="a mapping of fields"
    )
    try:
        return Tariff.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(describe_error(e, file_format="tariff") for e in exc.errors())
        raise TariffError(f"tariff file {path}: {problems}") from exc
