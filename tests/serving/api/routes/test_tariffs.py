"""POST /v1/tariffs/compare and /simulate: the contract, validation, access and audit, and
that the numbers are the tariff advice's own (the same forecast, billed by the engine).

The small world's customers are on `sh-res-tiered`, an id the catalogue does not know;
tests that need savings put one customer on the catalogue's `shanghai-res-tiered`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from powerhall.contract import KWH_COLUMNS, Table
from powerhall.lake import read_table
from powerhall.settings import Settings
from powerhall.tariffs import load_catalogue
from serving.db.engine import make_engine, session_factory
from serving.db.tables import AuditEntry, Customer
from tests.serving.conftest import Keys
from training.tariff_forecast import history
from training.tariff_options import bill_forecasts

CUSTOMER = "C0001"
CURRENT = "shanghai-res-tiered"
TOU = "shanghai-res-tou"
CUTOFF = date(2024, 2, 1)
"""The small world's readings end on 2024-02-25: the forecast starts at this month."""
COMPARE = "/v1/tariffs/compare"
SIMULATE = "/v1/tariffs/simulate"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _set_tariff(settings: Settings, customer_id: str, tariff_id: str) -> None:
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        row = session.get(Customer, customer_id)
        assert row is not None
        row.tariff_id = tariff_id
        session.commit()
    engine.dispose()


def _audit(settings: Settings) -> list[AuditEntry]:
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    engine.dispose()
    return rows


def _lake_readings(settings: Settings, customer_id: str) -> pd.DataFrame:
    return read_table(
        settings.lake_dir, Table.READINGS, where="customer_id = ?", params=[customer_id]
    )


def _hourly(frame: pd.DataFrame, first: date, last: date) -> list[dict[str, Any]]:
    """The frame's known hours from `first` to `last` as the API's {ts, kwh} (local time)."""
    days = pd.to_datetime(frame["date"]).dt.date
    kept = frame[(days >= first) & (days <= last)]
    readings = []
    for day, values in zip(days[kept.index], kept[list(KWH_COLUMNS)].to_numpy(), strict=True):
        for hour, kwh in enumerate(values):
            if not math.isnan(kwh):
                readings.append({"ts": f"{day}T{hour:02d}:00:00+08:00", "kwh": float(kwh)})
    return readings


def _by_tariff(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["tariff_id"]: row for row in answer["tariffs"]}


def test_compare_a_customer_is_the_tariff_advice_forecast_billed(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    _set_tariff(settings, CUSTOMER, CURRENT)
    response = client.post(COMPARE, json={"customer_id": CUSTOMER}, headers=Keys.header(keys.admin))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["customer"]["customer_id"] == CUSTOMER
    assert answer["customer"]["phone"] == "138****0000"
    assert (answer["first_month"], answer["last_month"]) == ("2024-02", "2025-01")
    assert answer["readings"]["days"] == 365 and answer["readings"]["coverage"] > 0.9
    assert answer["advice"] in ("switch", "stay")
    rows = _by_tariff(answer)
    assert set(rows) == {
        t.id for t in load_catalogue().eligible(segment="residential", region="shanghai")
    }
    assert rows[CURRENT]["current"] and not rows[TOU]["current"]
    assert rows[TOU]["time_of_use"] and not rows[CURRENT]["time_of_use"]
    bills = [row["bill_cny"] for row in answer["tariffs"]]
    assert bills == sorted(bills)

    # the same readings, forecast and billed as `powerhall score` does
    readings = _lake_readings(settings, CUSTOMER)
    hist = history(readings, np.array([CUSTOMER], dtype=object), CUTOFF)
    customers = pd.DataFrame(
        {
            "customer_id": [CUSTOMER],
            "segment": ["residential"],
            "region": ["shanghai"],
            "tariff_id": [CURRENT],
            "contract_capacity_kva": [np.nan],
        }
    )
    batch = bill_forecasts(hist, customers, load_catalogue(), {"p50": np.ones(1)})
    expected = batch.set_index("tariff_id")["amount_cny"]
    assert {t: r["bill_cny"] for t, r in rows.items()} == pytest.approx(expected.to_dict())
    saving = expected[CURRENT] - expected[TOU]
    assert rows[TOU]["saving_cny"] == pytest.approx(saving, abs=0.01)
    assert rows[CURRENT]["saving_cny"] == 0.0 and rows[CURRENT]["bill_risk_cny"] is None
    if answer["advice"] == "switch":
        assert answer["best_tariff_id"] == TOU and saving >= settings.tariff_min_saving_cny
    assert CHINESE.search(answer["reason"])

    (audit,) = _audit(settings)
    assert (audit.customer_id, audit.action, audit.role) == (CUSTOMER, "tariff_compare", "admin")


def test_readings_in_the_body_bill_as_the_same_readings_from_the_lake(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    """A year of hourly readings (about 0.4 MB of JSON: over the API's usual body limit)."""
    _set_tariff(settings, CUSTOMER, CURRENT)
    hourly = _hourly(_lake_readings(settings, CUSTOMER), date(2023, 2, 1), date(2024, 1, 31))
    assert len(hourly) > 8000
    body = {
        "segment": "residential",
        "region": "shanghai",
        "current_tariff_id": CURRENT,
        "readings": hourly,
    }
    headers = Keys.header(keys.counter) | {"Accept-Language": "en"}
    sent = client.post(COMPARE, json=body, headers=headers)
    assert sent.status_code == 200, sent.text
    from_lake = client.post(
        COMPARE, json={"customer_id": CUSTOMER}, headers=Keys.header(keys.admin)
    )
    answer, lake = sent.json(), from_lake.json()
    assert answer["customer"] is None
    assert answer["first_month"] == lake["first_month"]
    assert [r["tariff_id"] for r in answer["tariffs"]] == [r["tariff_id"] for r in lake["tariffs"]]
    assert [r["bill_cny"] for r in answer["tariffs"]] == [r["bill_cny"] for r in lake["tariffs"]]
    assert answer["advice"] == lake["advice"]
    assert not CHINESE.search(answer["reason"] + "".join(r["name"] for r in answer["tariffs"]))
    assert [a.action for a in _audit(settings)] == ["tariff_compare"]  # readings are no one's

    only_tou = client.post(COMPARE, json=body | {"tariff_ids": [TOU]}, headers=headers).json()
    assert {r["tariff_id"] for r in only_tou["tariffs"]} == {TOU, CURRENT}  # current always


def test_the_safeguards_say_what_is_missing_and_give_no_saving_to_vacant_premises(
    client: TestClient, keys: Keys
) -> None:
    headers = Keys.header(keys.app)
    base = {"segment": "residential", "region": "shanghai", "current_tariff_id": CURRENT}
    start = date(2024, 1, 1)

    def hours(days: int, kwh: float) -> list[dict[str, Any]]:
        return [
            {"ts": f"{start + timedelta(days=d)}T{h:02d}:00:00+08:00", "kwh": kwh}
            for d in range(days)
            for h in range(24)
        ]

    # January to March 2024: the forecast would start in April, from 91 days
    short = client.post(COMPARE, json=base | {"readings": hours(91, 0.5)}, headers=headers)
    assert short.status_code == 200, short.text
    assert short.json()["advice"] == "insufficient_data"
    assert short.json()["tariffs"] == []
    assert "91" in short.json()["reason"] and "270" in short.json()["reason"]

    english = client.post(
        COMPARE,
        json=base | {"readings": hours(100, 0.5)},
        headers=headers | {"Accept-Language": "en"},
    )
    assert english.json()["reason"].startswith("Only 91 days of readings")

    vacant = client.post(
        COMPARE, json=base | {"readings": hours(366, 0.001)}, headers=headers
    ).json()
    assert vacant["advice"] == "vacant" and vacant["best_tariff_id"] is None
    assert vacant["tariffs"] and all(r["saving_cny"] is None for r in vacant["tariffs"])

    no_current = {k: v for k, v in base.items() if k != "current_tariff_id"}
    bills_only = client.post(
        COMPARE, json=no_current | {"readings": hours(366, 0.6)}, headers=headers
    )
    assert bills_only.json()["advice"] is None
    assert all(r["saving_cny"] is None and not r["current"] for r in bills_only.json()["tariffs"])


def test_bad_compare_bodies_are_422_with_the_reason(client: TestClient, keys: Keys) -> None:
    one = {"ts": "2025-01-01T00:00:00+08:00", "kwh": 1.0}
    base = {"segment": "residential", "region": "shanghai"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "exactly one of customer_id and readings"),
        ({"customer_id": CUSTOMER, "readings": [one]}, "exactly one of customer_id and readings"),
        ({"customer_id": CUSTOMER, "region": "shanghai"}, "come from the directory"),
        ({"readings": [one]}, "segment and the region"),
        (base | {"readings": [one | {"ts": "2025-01-01T00:30:00+08:00"}]}, "start of an hour"),
        (base | {"readings": [one | {"ts": "2025-01-01T00:00:00"}]}, "timezone"),
        (base | {"readings": [one, one]}, "given twice"),
        (base | {"readings": [one | {"kwh": -0.1}]}, "greater than or equal to 0"),
        (
            base | {"readings": [one, {"ts": "2026-01-02T00:00:00+08:00", "kwh": 1.0}]},
            "at most 366 days",
        ),
        (base | {"readings": [one], "region": "mars"}, "Input should be"),
        (base | {"readings": [one], "tariff_ids": ["no-such-tariff"]}, "unknown tariff"),
        (base | {"readings": [one], "tariff_ids": ["beijing-res-tiered"]}, "not open to"),
        (base | {"readings": [one], "current_tariff_id": "no-such-tariff"}, "no tariff"),
    ]
    for body, reason in cases:
        response = client.post(COMPARE, json=body, headers=Keys.header(keys.admin))
        assert response.status_code == 422, (body, response.text)
        error = response.json()["error"]
        assert reason in error["message"] + str(error["details"]), (body, error)
    unknown = client.post(COMPARE, json={"customer_id": "NOPE"}, headers=Keys.header(keys.admin))
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "customer_not_found"


def test_a_year_of_readings_passes_the_body_limit_but_not_much_more(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    padding = "x" * (settings.max_readings_body_bytes + 1)
    too_big = client.post(
        COMPARE,
        content=f'{{"customer_id": "{padding}"}}',
        headers=Keys.header(keys.admin) | {"Content-Type": "application/json"},
    )
    assert too_big.status_code == 413
    elsewhere = client.post(
        SIMULATE,
        content=f'{{"customer_id": "{"x" * (settings.max_body_bytes + 1)}"}}',
        headers=Keys.header(keys.admin) | {"Content-Type": "application/json"},
    )
    assert elsewhere.status_code == 413


def test_counter_keys_see_only_customers_identified_in_their_hall(
    client: TestClient, keys: Keys, identify: Callable[..., None], settings: Settings
) -> None:
    for url, body in ((COMPARE, {"customer_id": CUSTOMER}), (SIMULATE, {"customer_id": CUSTOMER})):
        refused = client.post(url, json=body, headers=Keys.header(keys.counter))
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "not_identified_here"
        assert client.post(url, json=body).status_code == 401
        assert client.post(url, json=body, headers=Keys.header(keys.app)).status_code == 200
    identify(CUSTOMER)
    for url in (COMPARE, SIMULATE):
        body = {"customer_id": CUSTOMER}
        assert client.post(url, json=body, headers=Keys.header(keys.counter)).status_code == 200
        other = client.post(url, json=body, headers=Keys.header(keys.other_counter))
        assert other.status_code == 403
    assert [(a.action, a.role) for a in _audit(settings)] == [
        ("tariff_compare", "app"),
        ("tariff_simulate", "app"),
        ("tariff_compare", "counter"),
        ("tariff_simulate", "counter"),
    ]


def test_moving_evening_use_to_the_valley_lowers_the_time_of_use_bill_only(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    _set_tariff(settings, CUSTOMER, CURRENT)
    headers = Keys.header(keys.admin)
    unchanged = client.post(SIMULATE, json={"customer_id": CUSTOMER}, headers=headers).json()
    assert unchanged["moved_kwh"] == 0.0
    assert all(r["bill_shifted_cny"] == r["bill_cny"] for r in unchanged["tariffs"])
    assert unchanged["valley_hours"] == [0, 1, 2, 3, 4, 5, 22, 23]

    body = {"customer_id": CUSTOMER, "shift": {"evening_share": 0.5, "ev_share": 0}}
    response = client.post(SIMULATE, json=body, headers=headers | {"Accept-Language": "en"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["shift"] == body["shift"]
    assert answer["moved_kwh"] > 100
    rows = _by_tariff(answer)
    assert rows[TOU]["bill_shifted_cny"] < rows[TOU]["bill_cny"]
    assert rows[CURRENT]["bill_shifted_cny"] == rows[CURRENT]["bill_cny"]  # one price all day
    assert rows[TOU]["saving_shifted_cny"] == pytest.approx(
        rows[CURRENT]["bill_cny"] - rows[TOU]["bill_shifted_cny"], abs=0.01
    )
    assert rows[TOU]["saving_shifted_cny"] > rows[TOU]["saving_cny"]
    assert rows[TOU]["name"].startswith("Shanghai")
    compare = client.post(COMPARE, json={"customer_id": CUSTOMER}, headers=headers).json()
    assert {t: r["bill_cny"] for t, r in rows.items()} == {
        t: r["bill_cny"] for t, r in _by_tariff(compare).items()
    }
    audit = _audit(settings)[-2]
    assert (audit.action, audit.reason) == (
        "tariff_simulate",
        "tariff_simulate evening_share=0.5 ev_share=0",
    )


def test_an_ev_already_charging_in_the_valley_has_nothing_to_move(
    client: TestClient, keys: Keys
) -> None:
    """The small world's chargers start at 22:00 or later: all valley hours in Shanghai."""
    body = {"customer_id": "C0000", "shift": {"evening_share": 0, "ev_share": 1}}
    answer = client.post(SIMULATE, json=body, headers=Keys.header(keys.admin)).json()
    assert answer["ev_charger"] is True
    assert answer["ev_charging_hours"] == []
    assert answer["moved_kwh"] == 0.0
    assert answer["advice"] is None  # sh-res-tiered is not in the catalogue: bills only
    assert "sh-res-tiered" in answer["reason"]
    assert all(r["bill_shifted_cny"] == r["bill_cny"] for r in answer["tariffs"])
