"""Properties every bill must have, checked on random readings under the shipped tariffs."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from powerhall.contract import KWH_COLUMNS
from powerhall.tariffs import Bill, Tariff, bill, bill_by_month, load_catalogue

CATALOGUE = list(load_catalogue())
TOU_WITHOUT_DEMAND_PEAKS = [
    t
    for t in CATALOGUE
    if t.is_time_of_use and (t.demand_charge is None or t.demand_charge.basis == "capacity_kva")
]
FLAT = [t for t in CATALOGUE if not t.is_time_of_use and t.demand_charge is None]
CAPACITY = pd.Series({"C0": 80.0, "C1": 315.0})
SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def hourly_kwh(draw: st.DrawFn) -> pd.DataFrame:
    """1-2 customers over 1-40 consecutive days, some of them crossing tiers and years."""
    customers = draw(st.integers(1, 2))
    days = draw(st.integers(1, 40))
    start = draw(st.sampled_from(["2024-12-10", "2025-02-15", "2025-06-20"]))
    step = draw(st.sampled_from([0.25, 1.0, 10.0]))
    kwh = draw(
        arrays(float, (customers * days, 24), elements=st.integers(0, 24).map(lambda q: q * step))
    )
    frame = pd.DataFrame(kwh, columns=list(KWH_COLUMNS))
    frame.insert(0, "date", np.tile(pd.date_range(start, periods=days), customers))
    frame.insert(0, "customer_id", np.repeat([f"C{i}" for i in range(customers)], days))
    return frame


def totals(tariff: Tariff, readings: pd.DataFrame) -> list[float]:
    return [b.total_cny for b in bill(tariff, readings, contract_capacity_kva=CAPACITY)]


def fen(amount: float) -> int:
    return round(amount * 100)


def hours_in(tariff: Tariff, readings: pd.DataFrame, row: int, period: str) -> list[int]:
    month = pd.Timestamp(readings["date"].iloc[row]).month
    index = tariff.period_names.index(period)
    return [h for h in range(24) if tariff.hour_periods[month - 1, h] == index]


@SETTINGS
@given(
    tariff=st.sampled_from(CATALOGUE),
    readings=hourly_kwh(),
    where=st.tuples(st.integers(0, 10**6), st.integers(0, 23)),
    extra=st.integers(1, 400).map(lambda q: q / 4),
)
def test_more_kwh_never_lowers_a_bill(
    tariff: Tariff, readings: pd.DataFrame, where: tuple[int, int], extra: float
) -> None:
    row, hour = where[0] % len(readings), where[1]
    more = readings.copy()
    more.iloc[row, more.columns.get_loc(KWH_COLUMNS[hour])] += extra

    before, after = totals(tariff, readings), totals(tariff, more)

    assert all(a >= b for a, b in zip(after, before, strict=True))


@SETTINGS
@given(
    tariff=st.sampled_from(TOU_WITHOUT_DEMAND_PEAKS),
    readings=hourly_kwh(),
    rows=st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)),
    picks=st.tuples(st.integers(0, 23), st.integers(0, 23)),
    share=st.sampled_from([0.25, 0.5, 1.0]),
)
def test_moving_kwh_from_peak_to_valley_never_raises_a_bill(
    tariff: Tariff,
    readings: pd.DataFrame,
    rows: tuple[int, int],
    picks: tuple[int, int],
    share: float,
) -> None:
    customer_days = len(readings) // readings["customer_id"].nunique()
    peak_row = rows[0] % len(readings)
    # the valley hour is the same customer's, on any of its days
    valley_row = peak_row - peak_row % customer_days + rows[1] % customer_days
    peak_hours = hours_in(tariff, readings, peak_row, "peak")
    valley_hours = hours_in(tariff, readings, valley_row, "valley")
    peak = readings.columns.get_loc(KWH_COLUMNS[peak_hours[picks[0] % len(peak_hours)]])
    valley = readings.columns.get_loc(KWH_COLUMNS[valley_hours[picks[1] % len(valley_hours)]])
    moved = readings.copy()
    amount = moved.iloc[peak_row, peak] * share
    moved.iloc[peak_row, peak] -= amount
    moved.iloc[valley_row, valley] += amount

    before, after = totals(tariff, readings), totals(tariff, moved)

    assert all(a <= b for a, b in zip(after, before, strict=True))


@SETTINGS
@given(
    tariff=st.sampled_from(FLAT),
    readings=hourly_kwh(),
    order=st.permutations(range(24)),
)
def test_a_flat_tariff_ignores_the_hour(
    tariff: Tariff, readings: pd.DataFrame, order: list[int]
) -> None:
    shuffled = readings.copy()
    shuffled[list(KWH_COLUMNS)] = readings[[KWH_COLUMNS[h] for h in order]].to_numpy()

    assert bill(tariff, shuffled) == bill(tariff, readings)


def assert_adds_up(result: Bill) -> None:
    items = sum(fen(i.amount_cny) for i in result.items)
    assert items == fen(result.energy_cny)
    assert items + fen(result.demand_cny) + fen(result.fixed_cny) == fen(result.total_cny)


@SETTINGS
@given(tariff=st.sampled_from(CATALOGUE), readings=hourly_kwh())
def test_items_add_up_to_the_total(tariff: Tariff, readings: pd.DataFrame) -> None:
    for result in bill(tariff, readings, contract_capacity_kva=CAPACITY):
        assert_adds_up(result)
    monthly = bill_by_month(tariff, readings, contract_capacity_kva=CAPACITY)
    parts = monthly[["energy_cny", "demand_cny", "fixed_cny"]].map(fen).sum(axis=1)
    assert parts.tolist() == monthly["amount_cny"].map(fen).tolist()
