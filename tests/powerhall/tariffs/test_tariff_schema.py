"""Tariff files: DESIGN.md's form loads, extensions work, bad files name file and field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from powerhall.errors import TariffError
from powerhall.tariffs import load_tariff

DESIGN_EXAMPLE = """\
id: example-res-tou
name: 居民分时阶梯电价（示例）
segment: residential        # residential | commercial | industrial
currency: CNY
effective_from: 2024-01-01
tiers:                      # optional: block pricing on cumulative kWh
  reset: year               # year | month
  bounds_kwh: [2760, 4800]  # upper bounds of all but the last tier
periods:                    # optional: time-of-use; hours are [start, end) local time
  peak:   ["08:00-22:00"]
  valley: ["22:00-08:00"]
prices_cny_per_kwh:         # one price per tier, per period; a flat tariff uses key `all`
  peak:   [0.568, 0.618, 0.868]
  valley: [0.288, 0.338, 0.588]
demand_charge:              # optional, two-part tariffs
  basis: capacity_kva       # capacity_kva | max_demand_kw
  cny_per_unit_month: 25.0
fixed_cny_per_month: 0
"""

SEASONAL = """\
id: test-seasonal
name: 测试
segment: commercial
currency: CNY
effective_from: 2025-01-01
tiers:
  reset: month
  bounds_kwh: [200, 400]
  seasonal_bounds_kwh:
    - months: [7, 8]
      bounds_kwh: [300, 500]
periods:
  peak: ["08:00-22:00"]
  valley: ["22:00-08:00"]
seasonal_periods:
  - months: [7, 8]
    periods:
      sharp: ["12:00-14:00"]
      peak: ["08:00-12:00", "14:00-22:00"]
      valley: ["22:00-08:00"]
prices_cny_per_kwh:
  sharp: [1.2, 1.3, 1.4]
  peak: [1.0, 1.1, 1.2]
  valley: [0.3, 0.4, 0.5]
"""


def test_design_example_loads(write_tariff: Callable[..., Path]) -> None:
    tariff = load_tariff(write_tariff(DESIGN_EXAMPLE))

    assert tariff.id == "example-res-tou"
    assert tariff.n_tiers == 3
    assert tariff.period_names == ("peak", "valley")
    assert tariff.hour_periods[0].tolist() == [1] * 8 + [0] * 14 + [1] * 2
    assert tariff.demand_charge is not None and tariff.demand_charge.cny_per_unit_month == 25.0


def test_seasonal_bounds_and_periods(write_tariff: Callable[..., Path]) -> None:
    tariff = load_tariff(write_tariff(SEASONAL))

    assert tariff.period_names == ("sharp", "peak", "valley")
    assert tariff.month_bounds[5].tolist() == [200, 400]
    assert tariff.month_bounds[6].tolist() == [300, 500]
    assert tariff.hour_periods[5, 12] == tariff.period_names.index("peak")
    assert tariff.hour_periods[6, 12] == tariff.period_names.index("sharp")
    assert tariff.hour_periods[7, 13] == tariff.period_names.index("sharp")
    assert tariff.hour_periods[7, 14] == tariff.period_names.index("peak")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('valley: ["22:00-08:00"]\nseasonal', 'valley: ["21:00-08:00"]\nseasonal', "hour 21:00"),
        ('valley: ["22:00-08:00"]\nseasonal', 'valley: ["23:00-08:00"]\nseasonal', "22:00"),
        ('sharp: ["12:00-14:00"]', 'sharp: ["12:00-15:00"]', "seasonal_periods.0.periods"),
        ("valley: [0.3, 0.4, 0.5]", "valley: [0.3, 0.4]", "prices_cny_per_kwh.valley"),
        ("valley: [0.3, 0.4, 0.5]", "valley: [0.3, -0.4, 0.5]", "prices_cny_per_kwh.valley.1"),
        ("reset: month", "reset: month\n  resets: year", "tiers.resets"),
        ("currency: CNY", "currency: CNY\ncolour: red", "colour"),
        ("currency: CNY", "currency: USD", "currency"),
        ("bounds_kwh: [200, 400]", "bounds_kwh: [400, 200]", "tiers.bounds_kwh"),
        ("bounds_kwh: [200, 400]", "bounds_kwh: [-200, 400]", "tiers.bounds_kwh.0"),
        ("bounds_kwh: [300, 500]", "bounds_kwh: [300]", "seasonal_bounds_kwh.0.bounds_kwh"),
        ("reset: month", "reset: year", "seasonal_bounds_kwh"),
        ("- months: [7, 8]\n    periods", "- months: [7, 13]\n    periods", "months"),
        ('"12:00-14:00"', '"12:30-14:00"', "on the hour"),
        ('"12:00-14:00"', '"noon"', "sharp"),
        ("  sharp: [1.2, 1.3, 1.4]\n", "", "no prices for period(s) sharp"),
        ("prices_cny_per_kwh:\n", "prices_cny_per_kwh:\n  all: [1, 2, 3]\n", "unknown period"),
        ("id: test-seasonal", "id: Test Seasonal", "id"),
        ("segment: commercial", "segment: farm", "segment"),
        ("name: 测试\n", "", "name"),
        (
            '  peak: ["08:00-22:00"]\n',
            '  peak: ["08:00-22:00"]\n  peak: ["08:00-22:00"]\n',
            "twice",
        ),
        ("tiers:", "tiers: [", "not valid YAML"),
    ],
)
def test_bad_tariff_names_file_and_field(
    write_tariff: Callable[..., Path], old: str, new: str, expected: str
) -> None:
    assert old in SEASONAL
    path = write_tariff(SEASONAL.replace(old, new, 1), name="bad-tariff")

    with pytest.raises(TariffError) as caught:
        load_tariff(path)

    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_seasonal_periods_need_base_periods(write_tariff: Callable[..., Path]) -> None:
    text = SEASONAL.replace('periods:\n  peak: ["08:00-22:00"]\n  valley: ["22:00-08:00"]\n', "")

    with pytest.raises(TariffError, match="seasonal_periods: needs 'periods'"):
        load_tariff(write_tariff(text))


def test_whole_day_period(write_tariff: Callable[..., Path]) -> None:
    text = DESIGN_EXAMPLE.replace(
        'peak:   ["08:00-22:00"]\n  valley: ["22:00-08:00"]', 'peak:   ["00:00-24:00"]'
    ).replace("  valley: [0.288, 0.338, 0.588]\n", "")

    assert load_tariff(write_tariff(text)).hour_periods.max() == 0


def test_missing_file_and_non_mapping(tmp_path: Path, write_tariff: Callable[..., Path]) -> None:
    with pytest.raises(TariffError, match="cannot read"):
        load_tariff(tmp_path / "absent.yaml")
    with pytest.raises(TariffError, match="mapping"):
        load_tariff(write_tariff("- just\n- a list\n"))
