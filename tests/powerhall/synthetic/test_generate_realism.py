"""Distributions within the ranges issue 3 asks for, on a small population."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from powerhall.contract import KWH_COLUMNS, Segment
from powerhall.synthetic.calendar_cn import SPRING_FESTIVAL, year_calendar
from powerhall.synthetic.load_shapes import PROFILES, year_shapes
from tests.powerhall.synthetic.generated import Generated


def _daily(generated: Generated) -> pd.DataFrame:
    readings = generated.table("readings")
    segment = generated.table("customers").set_index("customer_id")["segment"]
    return pd.DataFrame(
        {
            "customer_id": readings["customer_id"],
            "date": pd.to_datetime(readings["date"]),
            "kwh": readings[list(KWH_COLUMNS)].mean(axis=1) * 24,
            "segment": readings["customer_id"].map(segment),
        }
    )


def test_segment_shares(generated: Generated) -> None:
    shares = generated.table("customers")["segment"].value_counts(normalize=True)
    assert abs(shares[Segment.RESIDENTIAL.value] - 0.85) < 0.07
    assert abs(shares[Segment.COMMERCIAL.value] - 0.12) < 0.06
    assert 0 < shares[Segment.INDUSTRIAL.value] < 0.08


def test_annual_consumption_by_segment(generated: Generated) -> None:
    annual = _daily(generated).groupby(["segment", "customer_id"])["kwh"].mean() * 365
    median = annual.groupby(level="segment").median()
    assert 1500 <= median[Segment.RESIDENTIAL.value] <= 3500
    assert median[Segment.COMMERCIAL.value] > 10 * median[Segment.RESIDENTIAL.value]
    assert median[Segment.INDUSTRIAL.value] > 10 * median[Segment.COMMERCIAL.value]


def test_contract_capacity_carries_the_peak(generated: Generated) -> None:
    customers = generated.table("customers").set_index("customer_id")
    faulty = generated.truth("customers").set_index("customer_id")["meter_fault_date"].notna()
    business = customers[(customers["segment"] != Segment.RESIDENTIAL.value) & ~faulty]
    peak = generated.table("readings").groupby("customer_id")["max_demand_kw"].max()
    assert len(business) > 10
    assert (business["contract_capacity_kva"] >= peak[business.index] / 0.9).all()


def test_about_one_percent_missing_and_some_estimated(generated: Generated) -> None:
    readings = generated.table("readings")
    missing = readings[list(KWH_COLUMNS)].isna().to_numpy().mean()
    assert 0.005 < missing < 0.015
    estimated = readings["quality"].eq("estimated")
    assert 0.005 < estimated.mean() < 0.03
    flat = readings.loc[estimated, list(KWH_COLUMNS)]
    assert (flat.max(axis=1) == flat.min(axis=1)).all()


def test_summer_air_conditioning_raises_household_use(generated: Generated) -> None:
    daily = _daily(generated)
    homes = daily[daily["segment"] == Segment.RESIDENTIAL.value]
    month = homes["date"].dt.month
    assert (
        homes.loc[month.isin([7, 8]), "kwh"].mean()
        > 1.2 * homes.loc[month.isin([4, 5]), "kwh"].mean()
    )


def test_business_use_dips_at_the_spring_festival(generated: Generated) -> None:
    daily = _daily(generated)
    business = daily[daily["segment"] != Segment.RESIDENTIAL.value]
    festival = [d for d, n in year_calendar(2026).holidays.items() if n == SPRING_FESTIVAL]
    during = business["date"].between(pd.Timestamp(min(festival)), pd.Timestamp(max(festival)))
    before = business["date"].between(pd.Timestamp("2026-01-05"), pd.Timestamp("2026-01-30"))
    assert business.loc[during, "kwh"].mean() < 0.8 * business.loc[before, "kwh"].mean()


def test_ev_owners_charge_at_seven_kilowatts_in_the_evening_or_night(generated: Generated) -> None:
    readings = generated.table("readings")
    owners = generated.truth("customers").set_index("customer_id")["has_ev"]
    homes = generated.table("customers").query("segment == 'residential'")["customer_id"]
    night = readings[[f"kwh_{h:02d}" for h in (18, 19, 20, 21, 22, 23)]].max(axis=1)
    share_above_5kwh = (night > 5).groupby(readings["customer_id"]).mean()
    ev = share_above_5kwh[owners[owners].index]
    others = share_above_5kwh[homes[~homes.isin(ev.index)]]
    assert len(ev) > 5
    assert ev.min() > 0.1  # charging on at least one evening in ten
    assert others.quantile(0.9) < 0.05


def test_shapes_come_from_the_standard_profiles() -> None:
    shapes = year_shapes(2025)
    assert shapes.shape == (len(PROFILES), 365, 24)
    np.testing.assert_allclose(shapes.sum(axis=(1, 2)), 365, rtol=1e-4)
    h0 = shapes[PROFILES.index("h0")]
    assert h0[:, 19].mean() > 2 * h0[:, 3].mean()  # household evening peak, night trough
    g1 = shapes[PROFILES.index("g1")]
    sunday = dt.date(2025, 3, 9).timetuple().tm_yday - 1
    assert g1[sunday].sum() < 0.5 * g1[sunday + 1].sum()  # offices idle on Sunday


def test_a_year_the_calendar_does_not_know_borrows_the_latest_known() -> None:
    calendar = year_calendar(2031)
    assert calendar.borrowed_from is not None
    assert any(name == SPRING_FESTIVAL for name in calendar.holidays.values())
    assert all(day.year == 2031 for day in calendar.holidays)
