"""Render the feature catalogue into the SQL statements of a profile build.

Pure text generation, no engine: the statements use only SQL that DuckDB (with the
macros of `features.profiles.engines`) and Spark SQL both accept, which the engine
equality test checks.

The build works on a dense grid of (customer, week). Each source is first summed per
customer and week, with extra "tail" sums over the last r days of the week so that a
window of 7q + r days is exactly q whole weeks plus one tail. Window sums are then
frames over the grid rows, and a snapshot on Monday reads the rows of the weeks before
it, never its own: no value can see data from the snapshot day or later.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from features.profiles.catalogue import SOURCES, WINDOWS
from features.profiles.model import WEEK_DAYS, Feature, Measure, Source, View, Window
from powerhall.contract import Table

EPOCH_MONDAY = 4
"""1970-01-05, the first Monday after the epoch: week k holds days [4 + 7k, 11 + 7k)."""

_DTYPE_CASTS = {"float": "DOUBLE", "int": "BIGINT", "bool": "BOOLEAN"}


def week_of(day: int) -> int:
    """The week (grid row) that holds a local day number."""
    return (day - EPOCH_MONDAY) // WEEK_DAYS


def snapshot_week(snapshot_day: int) -> int:
    """The last whole week before a Monday snapshot: the newest row it may read."""
    return week_of(snapshot_day) - 1


def lookback_weeks(windows: Iterable[Window] = WINDOWS) -> int:
    return max(w.lookback_weeks for w in windows)


@dataclass(frozen=True)
class BuildPlan:
    """The grid a build covers: weeks [first_week, last_week] for every customer."""

    first_week: int
    last_week: int
    timezone: str

    @property
    def end_day(self) -> int:
        """First day after the grid; rows from this day on are never read."""
        return EPOCH_MONDAY + WEEK_DAYS * (self.last_week + 1)


def _window_by_name() -> dict[str, Window]:
    return {w.name: w for w in WINDOWS}


def _measures_by_name() -> dict[str, tuple[Source, Measure]]:
    return {m.name: (s, m) for s in SOURCES for m in s.measures}


def _needed(views: Iterable[View]) -> dict[str, set[str]]:
    """Window names each measure is read over, by measure name."""
    windows = _window_by_name()
    measures = _measures_by_name()
    needed: dict[str, set[str]] = defaultdict(set)
    for view in views:
        for feature in view.features:
            for measure, window in feature.references:
                if measure not in measures:
                    raise ValueError(f"feature {feature.name} reads unknown measure {measure}")
                if window not in windows:
                    raise ValueError(f"feature {feature.name} reads unknown window {window}")
                needed[measure].add(window)
    return needed


def _tails(window_names: Iterable[str]) -> list[int]:
    windows = _window_by_name()
    return sorted({windows[n].tail_days for n in window_names} - {0})


def _source_weeks_sql(source: Source, needed: dict[str, set[str]], plan: BuildPlan) -> str:
    """One row per customer and week with the sums (and tail sums) of a source's measures."""
    measures = [m for m in source.measures if m.name in needed]
    rows = source.rows(plan.timezone)
    week = f"CAST(FLOOR((day - {EPOCH_MONDAY}) / {WEEK_DAYS}) AS BIGINT)"
    aggregates: list[str] = []
    for m in measures:
        aggregates.append(f"{m.agg.upper()}({m.name}) AS {m.name}__w")
        for r in _tails(needed[m.name]):
            aggregates.append(
                f"{m.agg.upper()}(CASE WHEN pos >= {WEEK_DAYS - r} THEN {m.name} END) "
                f"AS {m.name}__t{r}"
            )
    # History older than the grid folds into its first row, which only all-history
    # windows read (finite windows stop one row short of it).
    return f"""
        SELECT customer_id, GREATEST(week, {plan.first_week}) AS week,
               {", ".join(aggregates)}
        FROM (
            SELECT customer_id, week, day - {EPOCH_MONDAY} - {WEEK_DAYS} * week AS pos,
                   {", ".join(f"{m.expr} AS {m.name}" for m in measures)}
            FROM (SELECT src.*, {week} AS week FROM ({rows}) AS src) AS dated
            WHERE day < {plan.end_day}
        ) AS measured
        GROUP BY customer_id, GREATEST(week, {plan.first_week})
    """


def _sources(views: Iterable[View]) -> tuple[dict[str, set[str]], list[Source]]:
    needed = _needed(views)
    return needed, [s for s in SOURCES if any(m.name in needed for m in s.measures)]


def first_day_sql(views: Iterable[View], timezone: str) -> str:
    """The earliest local day of any row the views read (NULL when there is none).

    A grid that starts at that day's week instead of a whole look-back before the first
    snapshot computes the same values: nothing older exists to fold into its first row.
    """
    _, sources = _sources(views)
    minima = " UNION ALL ".join(
        f"SELECT MIN(day) AS day FROM ({s.rows(timezone)}) AS {s.name}" for s in sources
    )
    return f"SELECT MIN(day) AS first_day FROM ({minima}) AS minima"


def weekly_sql(views: Iterable[View], plan: BuildPlan) -> str:
    """The dense (customer, week) grid joined to every source's weekly sums.

    Reads the registered tables `customers` and `weeks` (one column `week`).
    """
    needed, sources = _sources(views)
    ctes = [f"{s.name}_weeks AS ({_source_weeks_sql(s, needed, plan)})" for s in sources]
    columns = [
        f"{s.name}_weeks.{col}"
        for s in sources
        for m in s.measures
        if m.name in needed
        for col in (f"{m.name}__w", *(f"{m.name}__t{r}" for r in _tails(needed[m.name])))
    ]
    joins = "\n".join(
        f"LEFT JOIN {s.name}_weeks ON {s.name}_weeks.customer_id = grid.customer_id "
        f"AND {s.name}_weeks.week = grid.week"
        for s in sources
    )
    return f"""
        WITH {", ".join(ctes)},
        grid AS (
            SELECT c.customer_id, w.week
            FROM (SELECT DISTINCT customer_id FROM {Table.CUSTOMERS}) AS c CROSS JOIN weeks AS w
        )
        SELECT grid.customer_id, grid.week, {", ".join(columns)}
        FROM grid
        {joins}
    """


def _frame(start: int | None, end: int) -> str:
    first = "UNBOUNDED PRECEDING" if start is None else f"{start} PRECEDING"
    last = "CURRENT ROW" if end == 0 else f"{end} PRECEDING"
    return f"OVER (PARTITION BY customer_id ORDER BY week ROWS BETWEEN {first} AND {last})"


def _windowed(measure: Measure, window: Window) -> str:
    agg = measure.agg.upper()
    if window.days is None:
        return f"{agg}({measure.name}__w) {_frame(None, 0)}"
    q, r, lag = window.whole_weeks, window.tail_days, window.lag_weeks
    parts = []
    if q:
        parts.append(f"{agg}({measure.name}__w) {_frame(lag + q - 1, lag)}")
    if r:
        parts.append(f"{agg}({measure.name}__t{r}) {_frame(lag + q, lag + q)}")
    if measure.agg == "max":
        return parts[0] if len(parts) == 1 else f"GREATEST({', '.join(parts)})"
    return " + ".join(f"COALESCE({p}, 0)" for p in parts)


def _cast(feature: Feature) -> str:
    expr = feature.render()
    if feature.dtype in _DTYPE_CASTS:
        expr = f"CAST({expr} AS {_DTYPE_CASTS[feature.dtype]})"
    return f"{expr} AS {feature.name}"


def profiles_sql(views: Iterable[View], plan: BuildPlan) -> str:
    """Every feature of `views` at every snapshot of every customer existing then.

    Reads the table `weekly` (from `weekly_sql`), `customers` and `snapshots`
    (`week`, `snapshot_day`, `event_timestamp`: one row per snapshot).
    """
    views = list(views)
    needed = _needed(views)
    measures = _measures_by_name()
    windows = _window_by_name()
    windowed = [
        f"{_windowed(measures[m][1], windows[w])} AS {m}__{w}"
        for m in sorted(needed)
        for w in sorted(needed[m])
    ]
    features = [_cast(f) for view in views for f in view.features]
    local_day = "unix_date(CAST(from_utc_timestamp({}, '" + plan.timezone + "') AS DATE))"
    return f"""
        WITH windowed AS (
            SELECT customer_id, week, {", ".join(windowed)}
            FROM weekly
        ),
        spans AS (
            SELECT customer_id,
                   CASE WHEN isnan(contract_capacity_kva) THEN NULL
                        ELSE contract_capacity_kva END AS contract_capacity_kva,
                   {local_day.format("created_at")} AS created_day,
                   {local_day.format("closed_at")} AS closed_day
            FROM {Table.CUSTOMERS}
        )
        SELECT windowed.customer_id, snapshots.event_timestamp, {", ".join(features)}
        FROM windowed
        JOIN snapshots ON snapshots.week = windowed.week
        JOIN spans ON spans.customer_id = windowed.customer_id
        WHERE (spans.created_day IS NULL OR spans.created_day < snapshots.snapshot_day)
          AND (spans.closed_day IS NULL OR spans.closed_day >= snapshots.snapshot_day)
    """


def view_sql(view: View) -> str:
    """One view's columns of the `profiles` table: the view's offline table."""
    columns = ", ".join(f.name for f in view.features)
    return (
        f"SELECT customer_id, event_timestamp, {columns} FROM profiles "
        "ORDER BY customer_id, event_timestamp"
    )
