"""Hand-computed bills for each kind of tariff, missing hours, and bad readings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from powerhall.errors import ContractError, TariffError
from powerhall.tariffs import (
    MONTHLY_BILL_COLUMNS,
    HourlyReadings,
    Tariff,
    bill,
    bill_by_month,
    compare_tariffs,
    load_catalogue,
    load_tariff,
)

MakeReadings = Callable[..., pd.DataFrame]
WriteTariff = Callable[..., Path]

HEAD = """\
id: test-tariff
name: 测试电价
segment: industrial
currency: CNY
effective_from: 2025-01-01
"""


def shipped(tariff_id: str) -> Tariff:
    return load_catalogue().get(tariff_id)


def items_of(b) -> list[tuple[int, str, float, float]]:
    return [(i.tier, i.period, i.kwh, i.amount_cny) for i in b.items]


def test_flat_tiers_split_inside_a_day_and_reset_each_year(make_readings: MakeReadings) -> None:
    readings = make_readings(
        [
            ("A", "2024-12-29", {10: 2800}),
            ("A", "2024-12-30", {5: 100}),  # crosses 2880 kWh: 80 in tier 1, 20 in tier 2
            ("A", "2024-12-31", {23: 2000}),  # crosses 4800 kWh: 1900 in tier 2, 100 in tier 3
            ("A", "2025-01-01", {0: 10}),  # a new year starts again in tier 1
        ]
    )

    (result,) = bill(shipped("beijing-res-tiered"), readings)

    # 2890 x 0.4883 = 1411.187, 1920 x 0.5383 = 1033.536, 100 x 0.7883 = 78.83;
    # total 2523.553 -> 2523.55, and the fen left over goes to the largest remainder (.7)
    assert items_of(result) == [
        (1, "all", 2890.0, 1411.19),
        (2, "all", 1920.0, 1033.53),
        (3, "all", 100.0, 78.83),
    ]
    assert result.total_cny == 2523.55
    assert result.kwh == 4910.0
    assert result.missing_hours == 0
    assert (str(result.start), str(result.end)) == ("2024-12-29", "2025-01-01")

    monthly = bill_by_month(shipped("beijing-res-tiered"), readings)
    assert monthly["period"].tolist() == ["2024-12", "2025-01"]
    assert monthly["amount_cny"].tolist() == [2518.67, 4.88]  # 1406.304+1033.536+78.83; 4.883


def test_time_of_use_tiers_split_inside_a_day(make_readings: MakeReadings) -> None:
    readings = make_readings(
        [
            ("A", "2025-03-01", {5: 3100, 6: 40, 23: 1700}),
            ("B", "2025-03-01", {5: 3120, 6: 10}),  # tier 1 ends exactly at the end of 05:00
        ]
    )

    a, b = bill(shipped("shanghai-res-tou"), readings)

    assert items_of(a) == [
        (1, "peak", 20.0, 12.34),
        (1, "valley", 3100.0, 951.70),
        (2, "peak", 20.0, 13.54),
        (2, "valley", 1660.0, 559.42),
        (3, "valley", 40.0, 19.48),
    ]
    assert a.total_cny == 1556.48
    assert items_of(b) == [(1, "valley", 3120.0, 957.84), (2, "peak", 10.0, 6.77)]
    assert b.total_cny == 964.61


def test_yearly_tiers_cumulate_across_monthly_bills(make_readings: MakeReadings) -> None:
    readings = make_readings(
        [
            ("A", "2025-01-31", {12: 2800}),
            ("A", "2025-02-01", {12: 100}),
            ("B", "2025-02-01", {12: 100}),
        ]
    )

    monthly = bill_by_month(shipped("beijing-res-tiered"), readings)

    assert list(monthly.columns) == list(MONTHLY_BILL_COLUMNS)
    assert monthly[["customer_id", "period", "kwh", "amount_cny"]].values.tolist() == [
        ["A", "2025-01", 2800.0, 1367.24],  # 2800 x 0.4883
        ["A", "2025-02", 100.0, 49.83],  # 80 x 0.4883 + 20 x 0.5383 = 49.830
        ["B", "2025-02", 100.0, 48.83],
    ]


MONTHLY_TIERS_WITH_SUMMER_BOUNDS = """\
tiers:
  reset: month
  bounds_kwh: [200, 400]
  seasonal_bounds_kwh:
    - months: [7, 8]
      bounds_kwh: [300, 500]
prices_cny_per_kwh:
  all: [0.5, 0.6, 0.8]
"""


def test_monthly_tiers_with_summer_bounds(
    make_readings: MakeReadings, write_tariff: WriteTariff
) -> None:
    tariff = load_tariff(write_tariff(HEAD + MONTHLY_TIERS_WITH_SUMMER_BOUNDS))
    readings = make_readings([("A", "2025-06-30", {12: 250}), ("A", "2025-07-01", {12: 350})])

    monthly = bill_by_month(tariff, readings)
    (result,) = bill(tariff, readings)

    assert monthly["amount_cny"].tolist() == [130.0, 180.0]  # 200x.5+50x.6; 300x.5+50x.6
    assert items_of(result) == [(1, "all", 500.0, 250.0), (2, "all", 100.0, 60.0)]


TOU_WITH_SHARP_IN_JULY = """\
periods:
  peak: ["08:00-22:00"]
  valley: ["22:00-08:00"]
seasonal_periods:
  - months: [7]
    periods:
      sharp: ["12:00-14:00"]
      peak: ["08:00-12:00", "14:00-22:00"]
      valley: ["22:00-08:00"]
prices_cny_per_kwh:
  sharp: [1.2]
  peak: [1.0]
  valley: [0.3]
"""


def test_sharp_peak_only_in_july(make_readings: MakeReadings, write_tariff: WriteTariff) -> None:
    tariff = load_tariff(write_tariff(HEAD + TOU_WITH_SHARP_IN_JULY))
    readings = make_readings(
        [("A", "2025-06-30", {12: 10, 23: 5}), ("A", "2025-07-01", {12: 10, 3: 5})]
    )

    (result,) = bill(tariff, readings)

    assert items_of(result) == [
        (1, "sharp", 10.0, 12.0),
        (1, "peak", 10.0, 10.0),
        (1, "valley", 10.0, 3.0),
    ]
    assert result.total_cny == 25.0


def test_capacity_charge_per_kva_prorated_by_days(
    make_readings: MakeReadings, write_tariff: WriteTariff
) -> None:
    tariff = load_tariff(
        write_tariff(
            HEAD
            + TOU_WITH_SHARP_IN_JULY
            + "demand_charge:\n  basis: capacity_kva\n  cny_per_unit_month: 30\n"
        )
    )
    days = [("A", str(d.date()), {}) for d in pd.date_range("2025-01-01", "2025-01-31")]
    days += [("B", str(d.date()), {}) for d in pd.date_range("2025-01-01", "2025-01-15")]
    readings = make_readings(days)

    monthly = bill_by_month(
        tariff, readings, contract_capacity_kva=pd.Series({"A": 100.0, "B": 250.0})
    )

    assert monthly["demand_cny"].tolist() == [3000.0, 3629.03]  # 250 x 30 x 15/31 = 3629.032
    assert monthly["amount_cny"].tolist() == [3000.0, 3629.03]
    with pytest.raises(TariffError, match=r"no contract_capacity_kva for customer\(s\) B"):
        bill(tariff, readings, contract_capacity_kva=pd.Series({"A": 100.0}))
    with pytest.raises(TariffError, match="test-tariff charges by contract capacity"):
        bill(tariff, readings)


def test_demand_charge_on_the_months_maximum_demand(
    make_readings: MakeReadings, write_tariff: WriteTariff
) -> None:
    tariff = load_tariff(
        write_tariff(
            HEAD
            + "prices_cny_per_kwh:\n  all: [0.5]\n"
            + "demand_charge:\n  basis: max_demand_kw\n  cny_per_unit_month: 40\n"
        )
    )
    flat_two = dict.fromkeys(range(24), 2.0)
    days, metered = [], []
    for cid in ("A", "B"):
        for d in pd.date_range("2025-02-01", "2025-02-28"):
            hours = {**flat_two, 18: 50.0} if d.day == 10 else flat_two
            days.append((cid, str(d.date()), hours))
            metered.append(80.0 if (cid, d.day) == ("A", 3) else None)
    readings = make_readings(days, max_demand_kw=metered)

    monthly = bill_by_month(tariff, readings)

    # A: metered 80 kW; B: no metered demand, so the largest hourly kWh (50) stands in
    assert monthly["demand_cny"].tolist() == [3200.0, 2000.0]
    assert monthly["energy_cny"].tolist() == [696.0, 696.0]  # (27 x 48 + 96) kWh x 0.5
    assert monthly["amount_cny"].tolist() == [3896.0, 2696.0]


def test_fixed_charge_prorated_by_days(
    make_readings: MakeReadings, write_tariff: WriteTariff
) -> None:
    tariff = load_tariff(
        write_tariff(HEAD + "prices_cny_per_kwh:\n  all: [1]\nfixed_cny_per_month: 10\n")
    )
    days = [("A", str(d.date()), {}) for d in pd.date_range("2025-02-15", "2025-03-31")]

    (result,) = bill(tariff, make_readings(days))

    assert result.fixed_cny == 15.0  # 14/28 of February + all of March
    assert result.total_cny == 15.0


def test_missing_hours_counted_excluded_or_filled(
    make_readings: MakeReadings, write_tariff: WriteTariff
) -> None:
    tariff = load_tariff(write_tariff(HEAD + "prices_cny_per_kwh:\n  all: [1]\n"))
    readings = make_readings(
        [
            ("A", "2025-01-01", {0: 1, 1: 4}),
            ("A", "2025-01-02", {0: 3, 1: 4}),
            # 2025-01-03 has no row: 24 missing hours
            ("A", "2025-01-04", {0: np.nan, 1: 4}),
            ("B", "2025-01-01", dict.fromkeys(range(24), np.nan)),
        ]
    )

    a, b = bill(tariff, readings)
    a_filled, b_filled = bill(tariff, readings, fill_missing=True)

    assert (a.total_cny, a.missing_hours, a.filled_missing) == (16.0, 25, False)
    # 00:00 filled with (1 + 3) / 2 twice, 01:00 with 4 once, other hours with 0
    assert (a_filled.total_cny, a_filled.missing_hours, a_filled.filled_missing) == (24.0, 25, True)
    # no known value for an hour in that month: filled with 0, still counted
    assert (b.total_cny, b.missing_hours) == (0.0, 24)
    assert (b_filled.total_cny, b_filled.missing_hours) == (0.0, 24)
    monthly = bill_by_month(tariff, readings)
    assert monthly["missing_hours"].tolist() == [25, 24]


def test_compare_ranks_cheapest_first_with_saving(make_readings: MakeReadings) -> None:
    readings = make_readings([("A", "2025-01-01", {23: 10})])
    catalogue = load_catalogue()
    eligible = catalogue.eligible(segment="residential", region="shanghai")

    ranking = compare_tariffs(eligible, readings, current_tariff_id="shanghai-res-tiered")

    assert ranking[["tariff_id", "total_cny", "saving_cny", "rank"]].values.tolist() == [
        ["shanghai-res-tou", 3.07, 3.10, 1],  # 10 x 0.307 vs 10 x 0.617
        ["shanghai-res-tiered", 6.17, 0.0, 2],
    ]


def test_readings_laid_out_once_bill_every_tariff(make_readings: MakeReadings) -> None:
    readings = make_readings([("A", "2025-01-01", {23: 10}), ("A", "2025-01-02", {8: 5})])
    hourly = HourlyReadings.from_frame(readings)

    totals = {
        t.id: bill(t, hourly)[0].total_cny
        for t in load_catalogue().eligible(segment="residential", region="zhejiang")
    }

    assert totals == {"zhejiang-res-tiered": 8.07, "zhejiang-res-tou": 5.72}  # 15x.538; 2.88+2.84
    with pytest.raises(ValueError, match="fill_missing"):
        bill(shipped("zhejiang-res-tou"), hourly, fill_missing=True)


def test_no_readings_no_bills(make_readings: MakeReadings) -> None:
    empty = make_readings([("A", "2025-01-01", {})]).iloc[:0]

    assert bill(shipped("beijing-res-tiered"), empty) == []
    assert bill_by_month(shipped("beijing-res-tiered"), empty).empty


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (lambda f: f.drop(columns="kwh_05"), "missing column(s) kwh_05"),
        (lambda f: f.assign(kwh_03=-1.0), "kwh_03 must be a finite number >= 0"),
        (lambda f: f.assign(kwh_03=np.inf), "kwh_03 must be a finite number >= 0"),
        (lambda f: f.assign(kwh_07="lots"), "must be numbers"),
        (lambda f: f.assign(date="2025-01-01"), "duplicate (customer_id, date)"),
        (lambda f: f.assign(date=["2025-01-01", "2025-13-01"]), "date is not a date"),
        (lambda f: f.assign(customer_id=[None, "A"]), "customer_id is null"),
        (lambda f: f.assign(max_demand_kw=-5.0), "max_demand_kw must be"),
    ],
)
def test_bad_readings_give_clear_errors(
    make_readings: MakeReadings, spoil: Callable[[pd.DataFrame], pd.DataFrame], expected: str
) -> None:
    readings = spoil(make_readings([("A", "2025-01-01", {1: 1}), ("A", "2025-01-02", {1: 1})]))

    with pytest.raises(ContractError) as caught:
        bill(shipped("beijing-res-tiered"), readings)

    assert expected in str(caught.value)


def test_half_a_fen_rounds_up_despite_binary_floats(make_readings: MakeReadings) -> None:
    assert 15 * 0.617 * 100 < 925.5  # 9.255 yuan is a hair below half a fen as a float

    (result,) = bill(shipped("shanghai-res-tiered"), make_readings([("A", "2025-01-01", {9: 15})]))

    assert result.total_cny == 9.26
