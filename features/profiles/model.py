"""The vocabulary of the feature catalogue: measures, windows and features.

A profile feature is defined once, as data: the daily measures a source table contributes,
and an SQL expression over windowed sums of those measures. `features.profiles.sql`
renders the definitions into SQL text that DuckDB and Spark SQL both run, and the Feast
definitions take their field names, types and descriptions from the same objects, so a
feature cannot be spelled or typed differently in two places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Aggregate = Literal["sum", "max"]
FeatureType = Literal["float", "int", "bool", "timestamp"]

WEEK_DAYS = 7
_REFERENCE = re.compile(r"\{(\w+)@(\w+)\}")


@dataclass(frozen=True)
class Measure:
    """A per-row quantity of a source, summed (or maxed) per customer and week."""

    name: str
    expr: str
    agg: Aggregate = "sum"


@dataclass(frozen=True)
class Window:
    """A look-back window ending at the snapshot (exclusive), optionally a year earlier.

    `days=None` means all history before the snapshot. Windows are exact in days even
    though snapshots are weekly: a window of 7q + r days is q whole weeks plus the last
    r days of the week before them, which each weekly row carries as a tail column.
    """

    name: str
    days: int | None
    lag_weeks: int = 0

    @property
    def whole_weeks(self) -> int:
        return 0 if self.days is None else self.days // WEEK_DAYS

    @property
    def tail_days(self) -> int:
        return 0 if self.days is None else self.days % WEEK_DAYS

    @property
    def lookback_weeks(self) -> int:
        """Weekly rows before the snapshot this window reads (0 for all history)."""
        if self.days is None:
            return 0
        return self.lag_weeks + self.whole_weeks + (1 if self.tail_days else 0)


@dataclass(frozen=True)
class Source:
    """A lake table seen as dated rows of measures.

    `rows_sql` yields `customer_id`, `day` (days since 1970-01-01, local date) and one
    column per measure; it may read several lake tables and UNION ALL several kinds of
    row (a bill contributes on its issue, due and payment days).
    """

    name: str
    rows_sql: str
    measures: tuple[Measure, ...]

    def rows(self, timezone: str) -> str:
        """`rows_sql` with the customers' local zone in place of `{tz}`."""
        return self.rows_sql.replace("{tz}", timezone)


@dataclass(frozen=True)
class Feature:
    """One profile column: an SQL expression over `{measure@window}` references."""

    name: str
    expr: str
    dtype: FeatureType
    description: str

    @property
    def references(self) -> list[tuple[str, str]]:
        return _REFERENCE.findall(self.expr)

    def render(self, column: str = "{measure}__{window}") -> str:
        return _REFERENCE.sub(
            lambda m: column.format(measure=m.group(1), window=m.group(2)), self.expr
        )


@dataclass(frozen=True)
class View:
    """A group of features that is one Feast feature view and one offline table."""

    name: str
    description: str
    features: tuple[Feature, ...] = field(default_factory=tuple)
