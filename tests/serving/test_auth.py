"""Keys, roles, where a key may come from, the rate limit, and masking."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from powerhall.errors import InvalidRequestError, NotFoundError
from powerhall.settings import Settings
from serving.api.deps import KEY_COOKIE, AdminDep, ApiKeyDep, preferred_language
from serving.auth import (
    RateLimiter,
    Role,
    create_key,
    find_caller,
    hash_token,
    mask_account,
    mask_phone,
    revoke_key,
)
from serving.db.engine import make_engine, session_factory
from serving.db.tables import ApiKey
from serving.main import create_app
from tests.serving.conftest import Keys

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _probe_app(settings: Settings) -> FastAPI:
    """The app plus two routes that only report who called (the test is about auth)."""
    app = create_app(settings)
    probe = APIRouter()

    @probe.get("/probe/any")
    def any_key(caller: ApiKeyDep) -> dict[str, str]:
        return {"role": caller.role}

    @probe.get("/probe/admin")
    def admin_only(caller: AdminDep) -> dict[str, str]:
        return {"role": caller.role}

    app.include_router(probe)
    return app


@pytest.fixture
def probe(settings: Settings) -> TestClient:
    with TestClient(_probe_app(settings)) as client:
        yield client


def test_only_the_hash_of_a_token_is_stored(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        key, token = create_key(session, role=Role.APP, name="app", hall_id=None, now=NOW)
        stored = session.scalars(select(ApiKey)).one()
    assert token.startswith("ph_") and len(token) > 40
    assert stored.key_hash == hash_token(token) != token
    assert stored.prefix == token[:8]
    assert key.id == stored.id


def test_counter_keys_need_a_hall_and_only_they_have_one(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        with pytest.raises(InvalidRequestError, match="hall"):
            create_key(session, role=Role.COUNTER, name="", hall_id=None, now=NOW)
        with pytest.raises(InvalidRequestError, match="only counter keys"):
            create_key(session, role=Role.APP, name="", hall_id="H01", now=NOW)


def test_a_revoked_key_is_refused(settings: Settings, keys: Keys, probe: TestClient) -> None:
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        caller = find_caller(session, keys.app)
        assert caller is not None
        revoke_key(session, key_id=caller.key_id, now=NOW)
        assert find_caller(session, keys.app) is None
        with pytest.raises(NotFoundError):
            revoke_key(session, key_id=999, now=NOW)
    response = probe.get("/probe/any", headers=Keys.header(keys.app))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_no_key_is_401_in_the_error_shape(probe: TestClient) -> None:
    response = probe.get("/probe/any")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"] == {
        "status": 401,
        "code": "missing_api_key",
        "message": response.json()["error"]["message"],
        "details": [],
    }


def test_a_key_is_taken_from_header_bearer_or_cookie(keys: Keys, probe: TestClient) -> None:
    assert probe.get("/probe/any", headers={"X-API-Key": keys.app}).json() == {"role": "app"}
    bearer = {"Authorization": f"Bearer {keys.admin}"}
    assert probe.get("/probe/any", headers=bearer).json() == {"role": "admin"}
    probe.cookies.set(KEY_COOKIE, keys.counter)
    assert probe.get("/probe/any").json() == {"role": "counter"}


def test_a_role_guard_refuses_other_roles(keys: Keys, probe: TestClient) -> None:
    response = probe.get("/probe/admin", headers=Keys.header(keys.counter))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_not_allowed"
    assert probe.get("/probe/admin", headers=Keys.header(keys.admin)).status_code == 200


def test_the_rate_limit_answers_429_with_retry_after(settings: Settings, keys: Keys) -> None:
    limited = settings.model_copy(update={"rate_limit_per_minute": 2})
    with TestClient(_probe_app(limited)) as client:
        statuses = [
            client.get("/probe/any", headers=Keys.header(keys.app)).status_code for _ in range(3)
        ]
        refused = client.get("/probe/any", headers=Keys.header(keys.app))
        other_key = client.get("/probe/any", headers=Keys.header(keys.admin))
    assert statuses == [200, 200, 429]
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert other_key.status_code == 200


def test_the_rate_limit_window_slides() -> None:
    limiter = RateLimiter(2)
    assert limiter.retry_after(1, 0.0) is None
    assert limiter.retry_after(1, 30.0) is None
    assert limiter.retry_after(1, 59.0) == pytest.approx(1.0)
    assert limiter.retry_after(1, 60.5) is None  # the first request left the window


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("13812345678", "138****5678"), ("021-5555-1234", "021******1234"), ("12345", "*****")],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_mask_account_keeps_the_last_four() -> None:
    assert mask_account("A00001234") == "*****1234"
    assert mask_account("A12") == "***"
    assert mask_account(None) is None


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh-CN"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("fr, en;q=0.5, zh;q=0.8", "zh-CN"),
        ("fr", "zh-CN"),
        ("en;q=0", "zh-CN"),
    ],
)
def test_preferred_language(header: str | None, language: str) -> None:
    assert preferred_language(header) == language
