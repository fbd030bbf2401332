"""The what-if's parts on hand-made loads: EV sessions, valley hours, and what a shift moves
(and so saves) once the forecast is billed again."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.profiles.catalogue import VALLEY_HOURS
from powerhall.contract import KWH_COLUMNS
from powerhall.settings import Settings
from powerhall.tariffs import load_catalogue
from serving.tariffs.simulator import TariffSimulator, Terms, prepare
from serving.tariffs.whatif import Shift, ev_charging_kwh, valley_hours

START = date(2023, 1, 1)
DAYS = 365
"""A calendar year of readings: the forecast is 2024, a leap year of 366 days."""
SHANGHAI_VALLEY = [0, 1, 2, 3, 4, 5, 22, 23]


def _frame(kwh: np.ndarray, customer_id: str = "E1") -> pd.DataFrame:
    frame = pd.DataFrame(kwh, columns=list(KWH_COLUMNS))
    frame.insert(0, "date", [START + timedelta(days=d) for d in range(len(kwh))])
    frame.insert(0, "customer_id", customer_id)
    return frame


def _simulate(kwh: np.ndarray, shift: Shift, *, has_ev: bool | None, tmp_path: Path) -> dict:
    simulator = TariffSimulator(load_catalogue(), Settings(data_dir=tmp_path))
    terms = Terms("E1", "residential", "shanghai", "shanghai-res-tiered", None)
    answer = simulator.simulate(
        terms,
        prepare(_frame(kwh), "E1"),
        simulator.tariffs(terms),
        shift,
        has_ev=has_ev,
        language="en",
    )
    return answer.model_dump()


def test_a_session_is_each_hours_excess_over_the_hour_before_it_started() -> None:
    kwh = np.full((3, 24), 0.5)
    kwh[0, 19:23] = [7.5, 7.5, 3.0, 1.5]  # 7 kW for 2.4 h; 1 kWh over is not charging
    kwh[1, 19] = 3.0  # a 2.5 kWh rise: a kettle, not a charger
    kwh[2, 18], kwh[2, 19] = np.nan, 7.5  # no hour before to compare with
    ev = ev_charging_kwh(kwh)
    assert ev[0].tolist() == [0.0] * 19 + [7.0, 7.0, 2.5] + [0.0, 0.0]
    assert not ev[1].any()
    assert np.isnan(ev[2, 18]) and not np.nan_to_num(ev[2]).any()


def test_valley_hours_are_where_every_time_of_use_tariff_is_cheapest() -> None:
    catalogue = load_catalogue()
    shanghai = valley_hours(catalogue.eligible(segment="residential", region="shanghai"))
    assert [np.flatnonzero(month).tolist() for month in shanghai] == [SHANGHAI_VALLEY] * 12
    # Jiangsu's valley (21:00-08:00) holds Shanghai's: only the common hours are sure
    both = valley_hours([catalogue.get("shanghai-res-tou"), catalogue.get("jiangsu-res-tou")])
    assert np.flatnonzero(both[0]).tolist() == SHANGHAI_VALLEY
    flat = valley_hours([catalogue.get("shanghai-res-tiered")])
    assert np.flatnonzero(flat[6]).tolist() == sorted(VALLEY_HOURS)


def test_moving_evening_ev_charging_prices_it_at_the_valley(tmp_path: Path) -> None:
    kwh = np.full((DAYS, 24), 0.5)
    kwh[::2, 19:21] = 7.5  # 7 kW from 19:00 to 21:00 every other day
    answer = _simulate(kwh, Shift(ev_share=1.0), has_ev=None, tmp_path=tmp_path)
    assert answer["ev_charger"] is True
    assert answer["ev_charging_hours"] == [19, 20]
    assert answer["moved_kwh"] == pytest.approx(14 * 366 / 2, rel=0.02)
    rows = {row["tariff_id"]: row for row in answer["tariffs"]}
    tou, flat = rows["shanghai-res-tou"], rows["shanghai-res-tiered"]
    assert flat["bill_shifted_cny"] == flat["bill_cny"]
    drop = tou["bill_cny"] - tou["bill_shifted_cny"]
    # each kWh moves from a peak to a valley price of its tier: 0.31 to 0.49 yuan cheaper
    assert 0.31 * answer["moved_kwh"] <= drop <= 0.49 * answer["moved_kwh"]

    not_a_charger = _simulate(kwh, Shift(ev_share=1.0), has_ev=False, tmp_path=tmp_path)
    assert not_a_charger["ev_charger"] is False
    assert not_a_charger["moved_kwh"] == 0.0


def test_an_evening_share_moves_that_share_of_the_non_valley_evening(tmp_path: Path) -> None:
    answer = _simulate(
        np.ones((DAYS, 24)), Shift(evening_share=0.5), has_ev=None, tmp_path=tmp_path
    )
    # 18:00-22:00 are evening outside the valley: half of 4 kWh a day, 366 days
    assert answer["moved_kwh"] == pytest.approx(2 * 366)
    assert answer["ev_charger"] is False and answer["ev_charging_hours"] == []
    rows = {row["tariff_id"]: row for row in answer["tariffs"]}
    assert rows["shanghai-res-tou"]["bill_shifted_cny"] < rows["shanghai-res-tou"]["bill_cny"]
