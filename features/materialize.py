"""Load the latest profile of every customer into the online store, moving only changes.

Feast's own `materialize` converts and writes value by value (about 1,000 customers a
second on this kind of machine); here DuckDB picks each customer's latest snapshot,
compares it with what was last written, and only changed rows go to the bulk writer
(`features.online_writer`) in large batches.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
from feast import FeatureStore, FeatureView

from features.online_writer import write_rows
from powerhall.settings import Settings

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Called as progress(view, rows_written_so_far, rows_to_write)."""


@dataclass(frozen=True)
class ViewMaterialization:
    view: str
    customers: int
    written: int
    """Customers whose values changed since the last run (all of them on a full run)."""


def _offline_glob(settings: Settings, view: str) -> str:
    return str(settings.offline_dir / view / "*.parquet")


def _state_path(settings: Settings, view: str) -> Path:
    return settings.feast_dir / "materialized" / f"{view}.parquet"


def _changed_rows(
    con: duckdb.DuckDBPyConnection, source: str, state: Path | None, features: list[str]
) -> tuple[int, pd.DataFrame]:
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE latest AS
            SELECT * FROM read_parquet('{source}')
            QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY event_timestamp DESC) = 1
        """
    )
    (customers,) = con.execute("SELECT count(*) FROM latest").fetchone()
    if state is None:
        return customers, con.execute("SELECT * FROM latest").df()
    columns = ", ".join(["customer_id", *features])
    changed = con.execute(
        f"""SELECT latest.* FROM latest
            JOIN (SELECT {columns} FROM latest EXCEPT SELECT {columns} FROM read_parquet('{state}'))
            AS changed USING (customer_id)
        """
    ).df()
    return customers, changed


def materialize_view(
    store: FeatureStore,
    settings: Settings,
    view: FeatureView,
    *,
    full: bool = False,
    progress: Progress | None = None,
) -> ViewMaterialization | None:
    """Write one view's changed latest values; None when its offline table does not exist."""
    if not any((settings.offline_dir / view.name).glob("*.parquet")):
        return None
    state = _state_path(settings, view.name)
    features = [f.name for f in view.features]
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        customers, changed = _changed_rows(
            con,
            _offline_glob(settings, view.name),
            None if full or not state.exists() else state,
            features,
        )
        batch = settings.materialize_batch_rows
        for start in range(0, len(changed), batch):
            write_rows(store, view, changed.iloc[start : start + batch])
            if progress:
                progress(view.name, min(start + batch, len(changed)), len(changed))
        if progress and changed.empty:
            progress(view.name, 0, 0)
        state.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY latest TO '{state}' (FORMAT parquet)")
    logger.info("%s: %d of %d customers changed", view.name, len(changed), customers)
    return ViewMaterialization(view=view.name, customers=customers, written=len(changed))


def materialize(
    store: FeatureStore,
    settings: Settings,
    *,
    views: Sequence[str] | None = None,
    full: bool = False,
    progress: Progress | None = None,
) -> list[ViewMaterialization]:
    """Materialize every batch-fed view (or the named ones) that has an offline table."""
    chosen = [fv for fv in store.list_feature_views() if views is None or fv.name in views]
    results = [materialize_view(store, settings, fv, full=full, progress=progress) for fv in chosen]
    return [r for r in results if r is not None]
