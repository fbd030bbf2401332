"""Rules that look beyond one row: keys within a file, and references to other tables.

The schema checks a row alone; these need the rest of the file (duplicate keys) or what
the lake and the run already accepted (known customers, known tariffs).
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from powerhall.contract import TABLE_KEYS, Table
from powerhall.ingest.failures import combine, failures_at, no_failures


def duplicate_keys(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """Every row whose key occurs more than once in the file: none of them can be told
    to be the right one. (Across files the later file wins, as if ingested one by one.)"""
    keys = list(TABLE_KEYS[table])
    complete = frame[keys].notna().all(axis=1).to_numpy()
    duplicated = frame[keys].duplicated(keep=False).to_numpy() & complete
    return failures_at(duplicated, f"duplicate key ({', '.join(keys)})")


def unknown_customers(frame: pd.DataFrame, known: pd.Index) -> pd.DataFrame:
    """Rows about a customer that neither the lake nor this input's accepted customers hold."""
    ids = frame["customer_id"]
    unknown = ids.notna().to_numpy() & ~ids.isin(known).to_numpy(dtype=bool, na_value=False)
    return failures_at(unknown, "unknown customer_id", "customer_id")


def unknown_tariffs(frame: pd.DataFrame, known: Collection[str] | None) -> pd.DataFrame:
    """Rows naming a tariff outside the catalogue; not checked when no catalogue is given."""
    if known is None:
        return no_failures()
    ids = frame["tariff_id"]
    unknown = ids.notna().to_numpy() & ~ids.isin(list(known)).to_numpy(dtype=bool, na_value=False)
    return combine(
        failures_at(
            unknown & (ids == value).to_numpy(dtype=bool, na_value=False),
            f"unknown tariff_id {value!r}",
            "tariff_id",
        )
        for value in np.unique(ids[unknown].astype(str))
    )
