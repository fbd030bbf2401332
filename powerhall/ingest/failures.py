"""Row failures: what every check returns, so that the reasons of a row can be joined.

A failure is `(row, column, reason)`: `row` is the 0-based position in the file being
ingested, `column` the contract column it is about (None for a rule on the whole row).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

FAILURE_COLUMNS = ("row", "column", "reason")
REASON_SEPARATOR = "; "


def failures_at(mask: np.ndarray, reason: str, column: str | None = None) -> pd.DataFrame:
    """One failure with the same reason for every row where `mask` is true."""
    return failures_at_rows(np.flatnonzero(mask), reason, column)


def failures_at_rows(rows: np.ndarray, reason: str, column: str | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": rows.astype(np.int64),
            "column": pd.Series([column] * len(rows), dtype=object),
            "reason": pd.Series([reason] * len(rows), dtype=object),
        }
    )


def no_failures() -> pd.DataFrame:
    return failures_at(np.zeros(0, dtype=bool), "")


def combine(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """All failures, without a second reason for a (row, column) that already failed.

    Parts come in order of precedence: a value that does not parse is reported as such,
    not again as missing by the schema that sees the null it became.
    """
    frames = [part for part in parts if len(part)]
    if not frames:
        return no_failures()
    merged = pd.concat(frames, ignore_index=True)
    on_column = merged["column"].notna()
    first = ~merged[on_column].duplicated(["row", "column"])
    keep = ~on_column
    keep[first.index[first]] = True
    return merged[keep].drop_duplicates(["row", "reason"]).reset_index(drop=True)


def reasons_by_row(failures: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """The reasons of each failing row, joined by `; `, indexed by row: in the order of
    `columns` (the contract's), rules about the whole row last."""
    position = {name: index for index, name in enumerate(columns)}
    order = failures["column"].map(position).fillna(len(columns))
    ordered = failures.assign(_order=order).sort_values(["row", "_order"], kind="stable")
    return ordered.groupby("row", sort=True)["reason"].agg(REASON_SEPARATOR.join)
