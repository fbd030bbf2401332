from __future__ import annotations

from fastapi.testclient import TestClient

from tests.serving.conftest import Keys


def test_acceptance_by_kind_counts_what_was_shown_and_answered(
    client: TestClient, keys: Keys
) -> None:
    admin = Keys.header(keys.admin)
    shown = client.get("/v1/customers/C0000/suggestions", headers=admin).json()["suggestions"]
    client.post(
        f"/v1/suggestions/{shown[0]['suggestion_id']}/feedback",
        json={"outcome": "accepted"},
        headers=admin | {"Idempotency-Key": "r-1"},
    )
    response = client.get("/v1/reports/acceptance", params={"group_by": "kind"}, headers=admin)
    assert response.status_code == 200
    rows = {row["group"]: row for row in response.json()["rows"]}
    kind = shown[0]["kind"]
    expected_shown = sum(s["kind"] == kind for s in shown)
    assert rows[kind] == {
        "group": kind,
        "shown": expected_shown,
        "accepted": 1,
        "declined": 0,
        "acceptance_rate": 1 / expected_shown,
    }


def test_acceptance_report_rules(client: TestClient, keys: Keys) -> None:
    url = "/v1/reports/acceptance"
    assert client.get(url, headers=Keys.header(keys.counter)).status_code == 403
    bad = client.get(url, params={"group_by": "region"}, headers=Keys.header(keys.admin))
    assert bad.status_code == 422
    naive = client.get(
        url, params={"since": "2026-01-01T00:00:00"}, headers=Keys.header(keys.admin)
    )
    assert naive.status_code == 422
    empty = client.get(
        url,
        params={"group_by": "staff", "since": "2026-01-01T00:00:00Z"},
        headers=Keys.header(keys.admin),
    )
    assert empty.json() == {"group_by": "staff", "since": "2026-01-01T00:00:00Z", "rows": []}
