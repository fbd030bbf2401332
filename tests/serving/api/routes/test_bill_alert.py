"""The bill alert through the API: a scores row (as `powerhall score` writes it) forecasts
a bill shock for this month; the app's answer carries the alert, the customer dismisses
it, and the next answer holds the kind back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from features.materialize import materialize
from features.store import open_store
from powerhall.settings import Settings
from tests.serving.conftest import Keys
from training import bill_score
from training.score import VIEW, write_scores

CUSTOMER = "C0000"
URL = f"/v1/customers/{CUSTOMER}/suggestions?channel=app&limit=5"


@pytest.fixture
def forecast(settings: Settings) -> str:
    """Score the customer as `powerhall score` would: a bill shock this month and the
    second tier in three days; the alert's item id."""
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    bills = pd.DataFrame(
        [
            {
                "bill_forecast_month": f"{today:%Y-%m}",
                "bill_forecast_cny": 286.0,
                "bill_forecast_p10_cny": 262.0,
                "bill_forecast_p90_cny": 312.0,
                "bill_usual_cny": 190.0,
                "tier_next": 2,
                "tier_cross_date": f"{today + timedelta(days=3):%Y-%m-%d}",
                "tier_cross_earliest": f"{today + timedelta(days=2):%Y-%m-%d}",
                "tier_cross_latest": f"{today + timedelta(days=5):%Y-%m-%d}",
                "bill_alert_reason": json.dumps([{"code": "evening", "value": 0.6}]),
            }
        ],
        columns=list(bill_score.COLUMNS),
    )
    write_scores(
        settings.offline_dir / VIEW,
        pd.Series([CUSTOMER]),
        {},
        {},
        datetime.now(UTC),
        bills=bills,
    )
    materialize(open_store(settings), settings, views=[VIEW])
    return f"bill-{today:%Y-%m}"


def _alerts(answer: dict) -> list[dict]:
    return [s for s in answer["suggestions"] if s["kind"] == "bill_alert"]


def test_the_app_gets_the_bill_alert_until_it_is_dismissed(
    client: TestClient, keys: Keys, forecast: str
) -> None:
    headers = Keys.header(keys.app)
    before = client.get(URL, headers=headers)
    assert before.status_code == 200, before.text
    (alert,) = _alerts(before.json())
    assert alert["item_id"] == forecast
    assert "进入第二档" in alert["title"]
    assert "本月电费约 ¥286（通常 ¥190）" in alert["message"]
    assert "晚间（18–24点）用电比平时多约60%" in alert["message"]
    assert [r["code"] for r in alert["reasons"]] == ["bill_evening", "bill_forecast"]
    assert alert["expected_value"] == pytest.approx(96.0)

    english = client.get(URL, headers=headers | {"Accept-Language": "en"}).json()
    (said,) = _alerts(english)
    assert "(usually ¥190)" in said["message"]

    dismissed = client.post(
        f"/v1/suggestions/{alert['suggestion_id']}/feedback",
        json={"outcome": "dismissed"},
        headers=headers | {"Idempotency-Key": "bill-alert-1"},
    )
    assert dismissed.status_code == 200, dismissed.text
    after = client.get(URL, headers=headers).json()
    assert _alerts(after) == []
    assert after["excluded"]["declined_kind"] >= 1
