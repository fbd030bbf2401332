"""Segment defaults: the median profile of each segment, for cold starts and degraded answers.

Computed once at start-up with DuckDB from the profile builder's offline tables
(`Settings.offline_dir`), each customer's latest snapshot of every view, joined with the
lake's customers for their segment. Counts and amounts take the median; a detected
appliance is present when most of the segment has it; times are left out (a median
customer had no outage). A new or unreadable customer is then treated as the typical
customer of their segment by the same candidate code.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import duckdb

from features.profiles import VIEWS
from powerhall.contract import Table
from powerhall.lake import read_table
from powerhall.settings import Settings

logger = logging.getLogger(__name__)

SegmentProfiles = dict[str, dict[str, Any]]
"""Segment -> feature name -> typical value."""


def _latest(source: Path) -> str:
    return f"""SELECT * FROM read_parquet('{source / "*.parquet"}')
               QUALIFY row_number() OVER (PARTITION BY customer_id
                                          ORDER BY event_timestamp DESC) = 1"""


def segment_profiles(settings: Settings) -> SegmentProfiles:
    """Typical profile per segment; empty when the offline tables or the lake are missing."""
    sources = {view.name: settings.offline_dir / view.name for view in VIEWS}
    if missing := [str(p) for p in sources.values() if not any(p.glob("*.parquet"))]:
        logger.warning("no segment defaults: missing offline tables %s", ", ".join(missing))
        return {}
    customers = read_table(settings.lake_dir, Table.CUSTOMERS, columns=["customer_id", "segment"])
    aggregates = []
    for view in VIEWS:
        for feature in view.features:
            column = f'"{view.name}"."{feature.name}"'
            if feature.dtype == "bool":
                aggregates.append(f'avg(CAST({column} AS DOUBLE)) >= 0.5 AS "{feature.name}"')
            elif feature.dtype in ("int", "float"):
                aggregates.append(f'median({column}) AS "{feature.name}"')
    joins = " ".join(
        f'JOIN ({_latest(path)}) AS "{name}" USING (customer_id)' for name, path in sources.items()
    )
    sql = f"SELECT segment, {', '.join(aggregates)} FROM customers {joins} GROUP BY segment"
    with duckdb.connect() as con:
        con.register("customers", customers)
        frame = con.execute(sql).df()
    profiles: SegmentProfiles = {}
    for row in frame.to_dict(orient="records"):
        segment = str(row.pop("segment"))
        profiles[segment] = {name: _python(value) for name, value in row.items()}
    return profiles


def _python(value: Any) -> Any:
    """NaN and pandas' NA become None, as the online store returns a missing value."""
    try:
        if value != value:  # NaN
            return None
    except TypeError:  # pandas.NA compares to nothing
        return None
    return value.item() if hasattr(value, "item") else value
