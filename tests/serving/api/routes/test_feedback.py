"""POST /v1/suggestions/{id}/feedback: idempotency, errors, roles, and the loop closing."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from powerhall.settings import Settings
from serving.db.engine import make_engine, session_factory
from serving.db.tables import SuggestionOutcome
from tests.serving.conftest import Keys

CUSTOMER = "C0000"


def _shown(client: TestClient, keys: Keys, customer: str = CUSTOMER) -> dict:
    answer = client.get(
        f"/v1/customers/{customer}/suggestions?channel=app", headers=Keys.header(keys.app)
    ).json()
    return answer["suggestions"][0]


def _post(client: TestClient, token: str, suggestion_id: str, key: str, **body: object):
    return client.post(
        f"/v1/suggestions/{suggestion_id}/feedback",
        json=body,
        headers=Keys.header(token) | {"Idempotency-Key": key},
    )


def _outcomes(settings: Settings) -> list[SuggestionOutcome]:
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        rows = list(session.scalars(select(SuggestionOutcome)))
    engine.dispose()
    return rows


def test_same_key_same_body_is_the_same_answer_without_a_new_row(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    suggestion = _shown(client, keys)
    first = _post(client, keys.app, suggestion["suggestion_id"], "k-1", outcome="clicked")
    again = _post(client, keys.app, suggestion["suggestion_id"], "k-1", outcome="clicked")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["kind"] == suggestion["kind"]
    assert first.json()["customer_id"] == CUSTOMER
    (row,) = _outcomes(settings)
    assert (row.outcome, row.idempotency_key, row.exported_at) == ("clicked", "k-1", None)


def test_same_key_other_body_is_409(client: TestClient, keys: Keys) -> None:
    suggestion_id = _shown(client, keys)["suggestion_id"]
    assert _post(client, keys.app, suggestion_id, "k-2", outcome="clicked").status_code == 200
    conflict = _post(client, keys.app, suggestion_id, "k-2", outcome="declined")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_key_reused"


def test_unknown_suggestion_is_404(client: TestClient, keys: Keys) -> None:
    response = _post(client, keys.app, "not-a-suggestion", "k-3", outcome="accepted")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "suggestion_not_found"


def test_missing_key_or_bad_outcome_is_422(client: TestClient, keys: Keys) -> None:
    suggestion_id = _shown(client, keys)["suggestion_id"]
    no_key = client.post(
        f"/v1/suggestions/{suggestion_id}/feedback",
        json={"outcome": "accepted"},
        headers=Keys.header(keys.app),
    )
    assert no_key.status_code == 422
    assert ["header", "Idempotency-Key"] in [d["loc"] for d in no_key.json()["error"]["details"]]
    assert _post(client, keys.app, suggestion_id, "k-4", outcome="maybe").status_code == 422
    other = _post(client, keys.app, suggestion_id, "k-5", outcome="accepted", customer_id="C0001")
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "customer_mismatch"


def test_counter_feedback_needs_the_customer_at_a_counter_of_its_hall(
    client: TestClient, keys: Keys, identify: Callable[..., None]
) -> None:
    suggestion_id = _shown(client, keys)["suggestion_id"]
    refused = _post(client, keys.counter, suggestion_id, "k-6", outcome="accepted")
    assert refused.status_code == 403
    identify(CUSTOMER)
    accepted = _post(client, keys.counter, suggestion_id, "k-6", outcome="accepted", staff_id="S07")
    assert accepted.status_code == 200
    other_hall = _post(client, keys.other_counter, suggestion_id, "k-7", outcome="declined")
    assert other_hall.status_code == 403


def test_an_accepted_offer_changes_the_next_answer(client: TestClient, keys: Keys) -> None:
    """The loop: what a customer accepted is not offered again, and the policy says why."""
    url = f"/v1/customers/{CUSTOMER}/suggestions?channel=counter"
    before = client.get(url, headers=Keys.header(keys.admin)).json()
    offered = before["suggestions"][0]
    assert _post(
        client, keys.admin, offered["suggestion_id"], "loop", outcome="accepted"
    ).is_success
    after = client.get(url, headers=Keys.header(keys.admin)).json()
    assert (offered["kind"], offered["item_id"]) not in {
        (s["kind"], s["item_id"]) for s in after["suggestions"]
    }
    assert after["excluded"]["accepted"] >= 1
