"""The bill forecast on hand-made months: the bill billed by the engine, the tier crossing
day (and its band), day types, last year's season, the measured band, the usual bill and
the reasons."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from powerhall.contract import KWH_COLUMNS
from powerhall.errors import ContractError
from powerhall.tariffs import bill_by_month, load_catalogue
from training.bill_forecast import (
    NO_BAND,
    RECENT_DAYS,
    SEASON_SHRINK,
    YEAR_DAYS,
    Band,
    Cube,
    Method,
    explain,
    forecast_bills,
    forecast_days,
    measure_band,
    usual_bills,
)
from training.tariff_forecast import rest_days

TARIFF = "zhejiang-res-tiered"
"""Annual tiers: 2,760 and 4,800 kWh at 0.538, 0.588 and 0.838 yuan."""
AS_OF = date(2025, 9, 10)
CATALOGUE = load_catalogue()


def readings(customer_id: str, start: date, daily: list[float] | np.ndarray) -> pd.DataFrame:
    """One row per day from `start`, each day's kWh spread evenly over its 24 hours."""
    daily = np.asarray(daily, dtype=float)
    frame = pd.DataFrame(np.repeat(daily[:, None] / 24, 24, axis=1), columns=list(KWH_COLUMNS))
    frame.insert(0, "date", [start + timedelta(days=i) for i in range(len(daily))])
    frame.insert(0, "customer_id", customer_id)
    return frame


def ten_a_day(until: date = AS_OF) -> pd.DataFrame:
    """10 kWh a day from 1 January, and 190 on New Year's day: 2,700 kWh before AS_OF."""
    days = (until - date(2025, 1, 1)).days
    return readings("H1", date(2025, 1, 1), [190.0] + [10.0] * (days - 1))


def customers(*ids: str, tariff: str = TARIFF) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": list(ids), "tariff_id": tariff})


def cube_of(frame: pd.DataFrame, start: date, end: date = AS_OF) -> Cube:
    return Cube.from_frame(frame, sorted(frame["customer_id"].unique()), start, end)


def test_the_month_is_billed_by_the_engine_and_the_tier_crossing_day_is_right() -> None:
    cube = cube_of(ten_a_day(), date(2025, 1, 1))
    (row,) = forecast_bills(cube, customers("H1"), CATALOGUE, AS_OF).itertuples()
    # 2,700 kWh before 10 September and 10 a day on: the day whose kWh passes 2,760 is the
    # 7th (on the 6th the year reaches 2,760 exactly, still tier 1)
    assert row.tier == 1 and row.tier_next == 2
    assert row.tier_cross_date == pd.Timestamp("2025-09-16")
    # September: 2,610 kWh before it, 300 in it: 150 at 0.538 and 150 at 0.588
    assert row.kwh_to_date == pytest.approx(90.0)
    assert row.kwh_forecast == pytest.approx(300.0)
    assert row.bill_forecast_cny == pytest.approx(150 * 0.538 + 150 * 0.588)
    actual = bill_by_month(CATALOGUE.get(TARIFF), ten_a_day(until=date(2025, 10, 1)))
    assert row.bill_forecast_cny == actual.set_index("period").loc["2025-09", "amount_cny"]
    assert np.isnan(row.bill_forecast_p10_cny) and pd.isna(row.tier_cross_latest)
    assert row.reason == ""


def test_the_band_moves_the_bill_and_the_crossing_day() -> None:
    cube = cube_of(ten_a_day(), date(2025, 1, 1))
    (row,) = forecast_bills(
        cube, customers("H1"), CATALOGUE, AS_OF, band=Band(0.9, 1.1, 100)
    ).itertuples()
    assert row.bill_forecast_p10_cny == pytest.approx(round(150 * 0.538 + 129 * 0.588, 2))
    assert row.bill_forecast_p90_cny == pytest.approx(round(150 * 0.538 + 171 * 0.588, 2))
    assert row.tier_cross_earliest == pd.Timestamp("2025-09-15")  # 11 a day: 6 days
    assert row.tier_cross_latest == pd.Timestamp("2025-09-16")  # 9 a day: 7 days


def test_no_crossing_in_the_last_tier_nor_on_a_tariff_without_tiers() -> None:
    frame = readings("H1", date(2025, 1, 1), [5000.0] + [10.0] * 251)
    forecast = forecast_bills(cube_of(frame, date(2025, 1, 1)), customers("H1"), CATALOGUE, AS_OF)
    assert forecast["tier"].iloc[0] == 3 and pd.isna(forecast["tier_next"].iloc[0])
    assert forecast["tier_cross_date"].isna().all()
    flat = forecast_bills(
        cube_of(ten_a_day(), date(2025, 1, 1)),
        customers("H1", tariff="zhejiang-com-tou"),
        CATALOGUE,
        AS_OF,
    )
    assert flat["bill_forecast_cny"].iloc[0] > 0
    assert flat["tier"].isna().all() and flat["tier_cross_date"].isna().all()


def test_nothing_on_or_after_the_forecast_day_is_read() -> None:
    plain = ten_a_day()
    later = readings("H1", AS_OF, [500.0] * 30)
    cube = cube_of(pd.concat([plain, later]), date(2025, 1, 1), date(2025, 10, 10))
    first = forecast_bills(cube_of(plain, date(2025, 1, 1)), customers("H1"), CATALOGUE, AS_OF)
    second = forecast_bills(cube, customers("H1"), CATALOGUE, AS_OF)
    pd.testing.assert_frame_equal(first, second)


def test_too_few_recent_readings_give_no_forecast_but_a_reason() -> None:
    frame = ten_a_day()
    frame.loc[frame["date"] >= AS_OF - timedelta(days=10), list(KWH_COLUMNS)] = np.nan
    found = forecast_bills(
        cube_of(frame, date(2025, 1, 1)),
        pd.concat([customers("H1"), customers("H2", tariff="no-such-tariff")]),
        CATALOGUE,
        AS_OF,
    ).set_index("customer_id")
    assert "64% of the hours of the 28 days" in found.loc["H1", "reason"]
    assert np.isnan(found.loc["H1", "bill_forecast_cny"])
    assert "H2" not in found.index  # no readings of theirs at all


def test_an_unknown_tariff_is_said() -> None:
    found = forecast_bills(
        cube_of(ten_a_day(), date(2025, 1, 1)),
        customers("H1", tariff="no-such-tariff"),
        CATALOGUE,
        AS_OF,
    )
    assert found["reason"].iloc[0] == "tariff no-such-tariff is not known"


def test_rest_days_are_forecast_from_rest_days() -> None:
    start = AS_OF - timedelta(days=RECENT_DAYS)
    days = np.datetime64(start) + np.arange(RECENT_DAYS)
    frame = readings("H1", start, np.where(rest_days(days), 20.0, 10.0))
    kwh, coverage = forecast_days(cube_of(frame, start), AS_OF, AS_OF + timedelta(days=14))
    ahead = np.datetime64(AS_OF) + np.arange(14)
    np.testing.assert_allclose(kwh[0].sum(axis=1), np.where(rest_days(ahead), 20.0, 10.0))
    assert coverage[0] == 1.0


def test_last_years_season_moves_the_forecast_half_way() -> None:
    """Last year the rest of September used 1.5 times the weeks before: half of that rise."""
    start = AS_OF - timedelta(days=YEAR_DAYS + RECENT_DAYS)
    days = (AS_OF - start).days
    offset = np.arange(days)  # last year's recent weeks first, then the days after them
    daily = np.where((offset >= RECENT_DAYS) & (offset < RECENT_DAYS + 60), 15.0, 10.0)
    frame = readings("H1", start, daily)
    kwh, _ = forecast_days(cube_of(frame, start), AS_OF, date(2025, 10, 1))
    np.testing.assert_allclose(kwh[0].sum(axis=1), 10.0 * (1 + SEASON_SHRINK * 0.5))
    run_rate, _ = forecast_days(cube_of(frame, start), AS_OF, date(2025, 10, 1), Method.RUN_RATE)
    np.testing.assert_allclose(run_rate[0].sum(axis=1), 10.0)


def test_the_naive_methods() -> None:
    """Run rate: this month's mean day on; last year: last year's days, times this month's
    use over the same days a year earlier."""
    start = date(2025, 9, 1) - timedelta(days=YEAR_DAYS)  # 364 days: the same weekdays
    last_year = [10.0] * 9 + [12.0] * 21 + [10.0] * (YEAR_DAYS - 30)  # up to 31 August
    this_month = [15.0] * 9  # 1-9 September
    frame = readings("H1", start, last_year + this_month)
    cube = cube_of(frame, start)
    end = date(2025, 10, 1)
    run_rate, _ = forecast_days(cube, AS_OF, end, Method.RUN_RATE)
    np.testing.assert_allclose(run_rate[0].sum(axis=1), 15.0)
    scaled, _ = forecast_days(cube, AS_OF, end, Method.LAST_YEAR)
    np.testing.assert_allclose(scaled[0].sum(axis=1), 12.0 * 1.5)


def test_the_band_is_measured_not_assumed() -> None:
    start = date(2025, 1, 1)
    n_days = (AS_OF - start).days
    steady = pd.concat([readings(f"S{i:02d}", start, [10.0] * n_days) for i in range(30)])
    band = measure_band(cube_of(steady, start), AS_OF)
    assert (band.low, band.high, band.samples) == (pytest.approx(1.0), pytest.approx(1.0), 90)
    rng = np.random.default_rng(1)
    noisy = pd.concat(
        [readings(f"N{i:02d}", start, 10.0 * rng.lognormal(0, 0.3, n_days)) for i in range(30)]
    )
    band = measure_band(cube_of(noisy, start), AS_OF)
    assert band.low < 0.97 and band.high > 1.03 and band.samples == 90
    assert np.isnan(measure_band(cube_of(steady.head(n_days), start), AS_OF).low)  # 3 samples


def test_the_usual_bill_is_last_years_month_else_the_median() -> None:
    bills = pd.DataFrame(
        {
            "customer_id": ["A", "A", "A", "B", "B", "B"],
            "period": ["2024-09", "2025-07", "2025-08", "2025-06", "2025-07", "2025-08"],
            "amount_cny": [190.0, 400.0, 420.0, 100.0, 300.0, 110.0],
        }
    )
    usual = usual_bills(bills, "2025-09")
    assert usual.to_dict() == {"A": 190.0, "B": 110.0}


@pytest.mark.parametrize(
    ("appliances", "month", "hours", "code"),
    [
        ({"has_air_conditioning": True}, 7, range(24), "cooling"),
        ({"has_electric_heating": True}, 1, range(24), "heating"),
        ({"has_ev_charger": True}, 9, range(20, 24), "ev"),
        ({}, 9, range(18, 24), "evening"),
        ({}, 9, range(8, 12), "higher_use"),
    ],
)
def test_the_reasons_follow_the_hours_and_the_appliances(
    appliances: dict, month: int, hours: range, code: str
) -> None:
    as_of = date(2025, month, 20)
    start = date(2024, 1, 1)
    n_days = (as_of - start).days
    hourly = np.full((n_days, 24), 0.5)
    recent = np.arange(n_days) >= (as_of - start).days - RECENT_DAYS
    hourly[np.ix_(recent, list(hours))] += 1.5  # the last weeks use more in these hours
    frame = pd.DataFrame(hourly, columns=list(KWH_COLUMNS))
    frame.insert(0, "date", [start + timedelta(days=i) for i in range(n_days)])
    frame.insert(0, "customer_id", "H1")
    cube = cube_of(frame, start, as_of)
    forecast = forecast_bills(cube, customers("H1"), CATALOGUE, as_of, band=NO_BAND)
    flags = pd.DataFrame([appliances], index=pd.Index(["H1"], name="customer_id"))
    (found,) = explain(cube, as_of, forecast, flags)
    reasons = json.loads(found)
    assert reasons[0]["code"] == code
    assert reasons[0]["value"] > 0.1


def test_a_steady_month_has_no_reason() -> None:
    cube = cube_of(ten_a_day(), date(2025, 1, 1))
    forecast = forecast_bills(cube, customers("H1"), CATALOGUE, date(2025, 8, 10))
    (found,) = explain(cube, date(2025, 8, 10), forecast, pd.DataFrame())
    assert json.loads(found) == []


def test_a_crossing_this_month_is_the_first_reason() -> None:
    cube = cube_of(ten_a_day(), date(2025, 1, 1))
    forecast = forecast_bills(cube, customers("H1"), CATALOGUE, AS_OF)
    (found,) = explain(cube, AS_OF, forecast, pd.DataFrame())
    assert json.loads(found) == [{"code": "tier", "value": 2.0}]


def test_a_cube_refuses_what_it_cannot_hold() -> None:
    with pytest.raises(ContractError, match="missing column"):
        Cube.from_frame(pd.DataFrame({"customer_id": ["H1"]}), ["H1"], AS_OF, AS_OF)
    with pytest.raises(ContractError, match="not after start"):
        Cube.from_frame(ten_a_day(), ["H1"], AS_OF, AS_OF)
