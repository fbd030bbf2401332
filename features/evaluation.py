"""How well the detected appliances match a known truth (the synthetic generator's)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

DETECTED_AS = {
    "has_ev": "has_ev_charger",
    "has_electric_heating": "has_electric_heating",
    "has_air_conditioning": "has_air_conditioning",
}
"""Truth column -> appliances feature that should reproduce it."""


def latest_appliances(offline_dir: Path) -> pd.DataFrame:
    """Each customer's newest appliances snapshot, indexed by customer_id."""
    with duckdb.connect() as con:
        return (
            con.execute(
                f"""SELECT * FROM read_parquet('{offline_dir / "appliances"}/*.parquet')
                    QUALIFY row_number() OVER (
                        PARTITION BY customer_id ORDER BY event_timestamp DESC) = 1"""
            )
            .df()
            .set_index("customer_id")
        )


def read_truth(raw_dir: Path) -> pd.DataFrame:
    """The generator's true appliances per customer (`<raw>/truth/customers`)."""
    columns = ", ".join(["customer_id", *DETECTED_AS])
    with duckdb.connect() as con:
        return (
            con.execute(
                f"SELECT {columns} FROM read_parquet('{raw_dir / 'truth' / 'customers'}/*.parquet')"
            )
            .df()
            .set_index("customer_id")
        )


def appliance_scores(detected: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall and F1 per appliance over the customers both frames hold.

    A customer the detector cannot judge yet (null: a season not seen) counts as not
    detected, so recall is honest about short histories.
    """
    both = truth[list(DETECTED_AS)].add_prefix("true_").join(detected, how="inner")
    rows = []
    for true_column, detected_column in DETECTED_AS.items():
        actual = both[f"true_{true_column}"].astype(bool)
        found = both[detected_column].astype("boolean").fillna(False).astype(bool)
        hits = int((actual & found).sum())
        precision = hits / found.sum() if found.sum() else float("nan")
        recall = hits / actual.sum() if actual.sum() else float("nan")
        f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
        rows.append(
            {
                "appliance": true_column.removeprefix("has_"),
                "customers": len(both),
                "owners": int(actual.sum()),
                "detected": int(found.sum()),
                "precision": precision,
                "recall": recall,
                "f1": f1,
            }
        )
    return pd.DataFrame(rows).set_index("appliance")
