"""Peer groups: each customer's use beside similar homes, computed in batch from the profiles.

Who counts as similar, finest group first:

1. same region, segment, heating type (electric heating detected from the load shape, or
   not) and size band (contracted capacity, banded on the standard transformer ratings);
2. same region, segment and heating type;
3. same region and segment.

A customer is compared with the finest group whose keys are all known for them and that
holds at least `min_group_size` comparable customers (`POWERHALL_PEER_MIN_GROUP_SIZE`,
30): a smaller group merges into the next coarser one, and a customer without a large
enough group is not compared at all, never against a handful of homes. Regions are never
mixed, since climate and tariffs differ between them. Only C&I contracts carry a size
(`contract_capacity_kva`); the contract has no floor area or household size, so
residential groups stop at region, segment and heating type (a floor-area column would
be the residential size band). A size proxy taken from consumption itself would compare
customers only with those who use as much as they do, and say nothing.

Use is a month's worth of the last 90 days (mean kWh per day with readings × 30): one
unusual month does not decide it, and the customers scored together share the window
(their latest weekly snapshot). A customer is comparable, both counted in their groups'
statistics and compared, with readings on at least 75 of the 90 days, not likely vacant
(under the tariff advice's `vacant_kwh_per_day`) and not very small (under a fifth of
their region and segment's median: a one-room flat or a holiday home says nothing about
how a family uses power, and would drag the "efficient homes" figure down). Everyone else
gets nulls and no comparison.

Per group: the median ("similar homes") and the 20th percentile ("efficient similar
homes") of monthly use; `peer_ratio` is the customer's monthly use over the median.

The columns travel in the batch `scores` view (`training.score` writes them on every run,
whichever models ran) rather than in a view of their own: they are refreshed at the same
cadence as the other batch results, are materialized by the same step, and reach the
service in the one online read it already makes per request.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa

from powerhall.errors import ContractError

DAYS_A_MONTH: Final = 30
MIN_READING_DAYS_90D: Final = 75
"""Days with readings of the last 90 a comparable customer needs (the profile's year-on-year
change asks the same)."""
SMALL_SHARE: Final = 0.2
"""Below this share of their region and segment's median a customer is very small."""
EFFICIENT_QUANTILE: Final = 0.2
"""'Efficient similar homes': the 20th percentile of the group's monthly use."""
CAPACITY_EDGES_KVA: Final = (100.0, 315.0, 1000.0, 3150.0)
CAPACITY_BANDS: Final = ("lt100kva", "100-315kva", "315-1000kva", "1000-3150kva", "ge3150kva")
"""Size bands on the standard transformer ratings (GB/T 6451): each spans about three sizes."""
ELECTRIC_HEATING: Final = "electric_heating"
NO_ELECTRIC_HEATING: Final = "no_electric_heating"
REGION, SEGMENT, HEATING, SIZE = "region", "segment", "heating", "size"
CAPACITY: Final = "capacity"
"""What the size band of a group means to the customer: a similar contracted capacity."""
LEVELS: Final = ((REGION, SEGMENT, HEATING, SIZE), (REGION, SEGMENT, HEATING), (REGION, SEGMENT))
"""Group keys, finest first; a group label joins its key values with '/'."""
INPUTS: Final = (
    "customer_id",
    "region",
    "segment",
    "contract_capacity_kva",
    "has_electric_heating",
    "kwh_90d",
    "avg_daily_kwh_90d",
)

FIELDS: Final = (
    pa.field("peer_group", pa.string()),
    pa.field("peer_group_size", pa.int64()),
    pa.field("peer_median_kwh_30d", pa.float64()),
    pa.field("peer_efficient_kwh_30d", pa.float64()),
    pa.field("peer_ratio", pa.float64()),
)
"""The scores-view columns of the peer comparison, in the view's order."""
COLUMNS: Final = tuple(f.name for f in FIELDS)


Factor = tuple[np.ndarray, np.ndarray]
"""Codes (-1: unknown) and the values they stand for, of one group key."""


def size_band(capacity_kva: pd.Series) -> Factor:
    """Each customer's capacity band; unknown without a contracted capacity."""
    capacity = pd.to_numeric(capacity_kva, errors="coerce").to_numpy(dtype=float)
    band = np.searchsorted(CAPACITY_EDGES_KVA, np.nan_to_num(capacity), side="right")
    return np.where(np.isnan(capacity), -1, band), np.asarray(CAPACITY_BANDS, dtype=object)


def heating_type(has_electric_heating: pd.Series) -> Factor:
    """Each customer's heating type; unknown where the profile could not tell (a season
    missing). Takes the profile's nullable booleans or their float form."""
    flag = has_electric_heating.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    codes = np.where(np.isnan(flag), -1, flag > 0.5).astype(np.int64)
    return codes, np.asarray([NO_ELECTRIC_HEATING, ELECTRIC_HEATING], dtype=object)


def shared_attributes(group: str) -> tuple[str, ...]:
    """What the members of a `peer_group` share with the customer beyond the segment:
    'region', then their heating type and 'capacity' when the group is that fine."""
    keys = group.split("/")
    return (REGION, *keys[2:3], *((CAPACITY,) if len(keys) > len(LEVELS[1]) else ()))


def peer_comparison(
    profiles: pd.DataFrame, *, min_group_size: int, vacant_kwh_per_day: float
) -> pd.DataFrame:
    """`customer_id` and `COLUMNS` for every row of `profiles` (one latest snapshot per
    customer, with its region), in order; nulls for a customer not compared.

    Keys are factorized once and a level's keys combined into one integer per customer:
    grouping never compares strings, and a million customers take about two seconds
    (twelve with string keys)."""
    missing = [c for c in INPUTS if c not in profiles.columns]
    if missing:
        raise ContractError(f"peer groups need the profile columns {missing}")
    if min_group_size < 2:
        raise ContractError(f"a peer group needs at least 2 customers, not {min_group_size}")
    n = len(profiles)
    daily = pd.to_numeric(profiles["avg_daily_kwh_90d"], errors="coerce").to_numpy(float)
    kwh = pd.to_numeric(profiles["kwh_90d"], errors="coerce").to_numpy(float)
    monthly = daily * DAYS_A_MONTH
    factors: dict[str, Factor] = {
        REGION: pd.factorize(profiles["region"].to_numpy(dtype=object)),
        SEGMENT: pd.factorize(profiles["segment"].to_numpy(dtype=object)),
        HEATING: heating_type(profiles["has_electric_heating"]),
        SIZE: size_band(profiles["contract_capacity_kva"]),
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        days = np.where(daily > 0, kwh / daily, np.nan)
    comparable = (days >= MIN_READING_DAYS_90D) & (daily >= vacant_kwh_per_day)

    regional, known = _level_codes((REGION, SEGMENT), factors, n)
    comparable &= known
    typical = pd.Series(monthly[comparable]).groupby(regional[comparable]).median()
    comparable &= monthly >= SMALL_SHARE * typical.reindex(regional).to_numpy()

    group = np.full(n, -1)
    labels: list[str] = []
    stats = np.full((n, 3), np.nan)
    for level in LEVELS:
        codes, known = _level_codes(level, factors, n)
        members = comparable & known
        rows = np.flatnonzero(members)
        grouped = pd.Series(monthly[rows]).groupby(codes[rows])
        size = grouped.size()
        large = size.index[size >= min_group_size]
        if large.empty:
            continue
        summary = np.column_stack(
            [
                size[large].to_numpy(float),
                grouped.median()[large].to_numpy(),
                grouped.quantile(EFFICIENT_QUANTILE)[large].to_numpy(),
            ]
        )
        first = pd.Series(rows).groupby(codes[rows]).first()[large].to_numpy()
        names = ["/".join(str(factors[k][1][factors[k][0][row]]) for k in level) for row in first]
        waiting = rows[group[rows] < 0]
        found = large.get_indexer(codes[waiting])
        hit = found >= 0
        group[waiting[hit]] = len(labels) + found[hit]
        stats[waiting[hit]] = summary[found[hit]]
        labels += names
    median = stats[:, 1]
    return pd.DataFrame(
        {
            "customer_id": profiles["customer_id"].astype(str).to_numpy(),
            "peer_group": np.asarray([*labels, None], dtype=object)[group],  # -1: None
            "peer_group_size": pd.array(stats[:, 0]).astype("Int64"),
            "peer_median_kwh_30d": np.round(median, 1),
            "peer_efficient_kwh_30d": np.round(stats[:, 2], 1),
            "peer_ratio": np.round(monthly / median, 3),
        }
    )


def _level_codes(
    level: tuple[str, ...], factors: dict[str, Factor], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """One integer per customer for the values of `level`'s keys, and whether all of them
    are known."""
    codes = np.zeros(n, dtype=np.int64)
    known = np.ones(n, dtype=bool)
    for name in level:
        key, uniques = factors[name]
        codes = codes * (len(uniques) + 1) + key + 1
        known &= key >= 0
    return codes, known


def arrow_columns(peers: pd.DataFrame | None, n: int) -> dict[str, pa.Array]:
    """`FIELDS` from `peer_comparison` output (rows in scoring order), or nulls without it."""
    if peers is None:
        return {f.name: pa.nulls(n, f.type) for f in FIELDS}
    return {f.name: pa.array(peers[f.name], f.type, from_pandas=True) for f in FIELDS}
