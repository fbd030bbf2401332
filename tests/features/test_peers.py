"""Peer groups on hand-made profiles: the finest large group, merging up, who is left out."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from features.peers import COLUMNS, peer_comparison, shared_attributes
from powerhall.errors import ContractError

MIN_GROUP = 30
VACANT_KWH_PER_DAY = 0.5


def customer(cid: str, daily: float, **overrides: Any) -> dict[str, Any]:
    """A latest snapshot: `daily` kWh a day on 90 of the last 90 days."""
    row = {
        "customer_id": cid,
        "region": "shanghai",
        "segment": "residential",
        "contract_capacity_kva": np.nan,
        "has_electric_heating": True,
        "kwh_90d": daily * 90,
        "avg_daily_kwh_90d": daily,
    }
    return row | overrides


def homes(prefix: str, n: int, start: float, **overrides: Any) -> list[dict[str, Any]]:
    """`n` customers using start, start + 0.1, ... kWh a day."""
    return [customer(f"{prefix}{i:03d}", start + 0.1 * i, **overrides) for i in range(n)]


def compare(rows: list[dict[str, Any]], min_group: int = MIN_GROUP) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    result = peer_comparison(frame, min_group_size=min_group, vacant_kwh_per_day=VACANT_KWH_PER_DAY)
    assert list(result["customer_id"]) == list(frame["customer_id"])
    assert list(result.columns) == ["customer_id", *COLUMNS]
    return result.set_index("customer_id")


@pytest.fixture(scope="module")
def shanghai() -> pd.DataFrame:
    """40 homes heating with electricity, 10 that do not, one whose heating is unknown,
    and the customers never compared: vacant, very small, too few days read."""
    rows = [
        *homes("H", 40, 8.0),
        *homes("N", 10, 6.0, has_electric_heating=False),
        customer("U", 7.0, has_electric_heating=None),
        customer("VACANT", 0.3),
        customer("SMALL", 1.0),
        customer("GAPS", 9.0, kwh_90d=9.0 * 40),
    ]
    return compare(rows)


def test_a_large_enough_group_is_used_as_it_is(shanghai: pd.DataFrame) -> None:
    heating = shanghai.loc[[f"H{i:03d}" for i in range(40)]]
    assert (heating["peer_group"] == "shanghai/residential/electric_heating").all()
    assert (heating["peer_group_size"] == 40).all()
    monthly = (8.0 + 0.1 * np.arange(40)) * 30
    assert heating["peer_median_kwh_30d"].iloc[0] == pytest.approx(np.median(monthly), abs=0.05)
    assert heating["peer_efficient_kwh_30d"].iloc[0] == pytest.approx(
        np.quantile(monthly, 0.2), abs=0.05
    )
    np.testing.assert_allclose(heating["peer_ratio"], monthly / np.median(monthly), atol=1e-3)


def test_a_small_group_merges_into_the_coarser_one(shanghai: pd.DataFrame) -> None:
    """10 homes without electric heating are too few: they join all 51 comparable homes of
    the region and segment, the unknown heating one too (its finer keys are not known)."""
    merged = shanghai.loc[[*(f"N{i:03d}" for i in range(10)), "U"]]
    assert (merged["peer_group"] == "shanghai/residential").all()
    assert (merged["peer_group_size"] == 51).all()
    assert (merged["peer_median_kwh_30d"] == merged["peer_median_kwh_30d"].iloc[0]).all()


def test_vacant_very_small_and_gappy_customers_are_neither_compared_nor_counted(
    shanghai: pd.DataFrame,
) -> None:
    left_out = shanghai.loc[["VACANT", "SMALL", "GAPS"]]
    assert left_out.isna().all().all()
    assert shanghai["peer_group_size"].max() == 51


def test_no_group_is_large_enough_nobody_is_compared() -> None:
    result = compare(homes("B", 12, 8.0, region="beijing"))
    assert result.isna().all().all()


def test_regions_are_never_mixed() -> None:
    rows = [*homes("S", 30, 8.0), *homes("B", 29, 8.0, region="beijing")]
    result = compare(rows)
    assert result.loc["S000", "peer_group"] == "shanghai/residential/electric_heating"
    assert result.loc[[f"B{i:03d}" for i in range(29)]].isna().all().all()


def test_businesses_are_grouped_by_capacity_band() -> None:
    """35 shops of 100-315 kVA make a group of their own; 5 of 500 kVA merge up."""
    rows = [
        *homes("M", 35, 150.0, segment="commercial", contract_capacity_kva=200.0),
        *homes("L", 5, 400.0, segment="commercial", contract_capacity_kva=500.0),
    ]
    result = compare([{**r, "has_electric_heating": False} for r in rows])
    assert result.loc["M000", "peer_group"] == "shanghai/commercial/no_electric_heating/100-315kva"
    assert result.loc["M000", "peer_group_size"] == 35
    assert result.loc["L000", "peer_group"] == "shanghai/commercial/no_electric_heating"
    assert result.loc["L000", "peer_group_size"] == 40


def test_the_minimum_group_size_is_a_parameter() -> None:
    rows = homes("N", 10, 6.0, has_electric_heating=False)
    assert compare(rows, min_group=10).loc["N000", "peer_group_size"] == 10
    assert compare(rows, min_group=11).isna().all().all()


def test_profiles_in_float_form_give_the_same_groups(shanghai: pd.DataFrame) -> None:
    """Batch scoring derives booleans to floats (NaN where unknown)."""
    rows = [
        *homes("H", 40, 8.0, has_electric_heating=1.0),
        *homes("N", 10, 6.0, has_electric_heating=0.0),
        customer("U", 7.0, has_electric_heating=np.nan),
    ]
    pd.testing.assert_frame_equal(compare(rows), shanghai.drop(["VACANT", "SMALL", "GAPS"]))


def test_shared_attributes_name_what_a_group_matched() -> None:
    assert shared_attributes("shanghai/residential") == ("region",)
    assert shared_attributes("shanghai/residential/electric_heating") == (
        "region",
        "electric_heating",
    )
    assert shared_attributes("shanghai/commercial/no_electric_heating/100-315kva") == (
        "region",
        "no_electric_heating",
        "capacity",
    )


def test_bad_input_is_refused_with_a_clear_error() -> None:
    frame = pd.DataFrame(homes("H", 3, 8.0)).drop(columns=["region"])
    with pytest.raises(ContractError, match="region"):
        peer_comparison(frame, min_group_size=MIN_GROUP, vacant_kwh_per_day=VACANT_KWH_PER_DAY)
    with pytest.raises(ContractError, match="at least 2"):
        peer_comparison(pd.DataFrame(homes("H", 3, 8.0)), min_group_size=1, vacant_kwh_per_day=0.5)
