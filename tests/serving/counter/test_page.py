"""The counter page's access: a key of the hall (or admin) sees the screen, nobody else
sees anything but the key form; `?key=` becomes an HttpOnly cookie and a clean URL."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from serving.api.deps import KEY_COOKIE
from serving.counter.labels import LABELS
from tests.serving.conftest import HALL, OTHER_HALL, Keys

PAGE = f"/counter/{HALL}/C1"


def _config(html: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="counter-config">(.*?)</script>', html)
    assert found is not None
    return json.loads(found.group(1))


def test_no_key_shows_the_key_form_only(client: TestClient) -> None:
    response = client.get(PAGE)
    assert response.status_code == 401
    assert 'name="key"' in response.text
    assert "counter-config" not in response.text
    assert "counter.js" not in response.text


def test_an_unknown_key_is_refused(client: TestClient) -> None:
    response = client.get(PAGE, params={"key": "ph_not-a-key"}, follow_redirects=False)
    assert response.status_code == 401
    assert "The key is unknown or revoked" in response.text
    assert KEY_COOKIE not in response.headers.get("set-cookie", "")


def test_a_key_of_another_hall_gets_403(client: TestClient, keys: Keys) -> None:
    response = client.get(PAGE, params={"key": keys.other_counter}, follow_redirects=False)
    assert response.status_code == 403
    assert "does not belong to this hall" in response.text
    assert "counter-config" not in response.text
    assert "set-cookie" not in response.headers


def test_an_app_key_may_not_open_a_counter(client: TestClient, keys: Keys) -> None:
    response = client.get(PAGE, params={"key": keys.app}, follow_redirects=False)
    assert response.status_code == 403


def test_the_key_becomes_a_strict_httponly_cookie_and_a_clean_url(
    client: TestClient, keys: Keys
) -> None:
    response = client.get(PAGE, params={"key": keys.counter}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == PAGE
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{KEY_COOKIE}={keys.counter};")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/" in cookie
    screen = client.get(PAGE)
    assert screen.status_code == 200
    config = _config(screen.text)
    assert config["hall"] == HALL
    assert config["counter"] == "C1"
    assert config["stream_url"] == f"/v1/halls/{HALL}/counters/C1/stream"
    assert keys.counter not in screen.text


def test_an_admin_key_opens_any_hall(client: TestClient, keys: Keys) -> None:
    client.cookies.set(KEY_COOKIE, keys.admin)
    assert client.get(f"/counter/{OTHER_HALL}/C3").status_code == 200


def test_a_cookie_of_another_hall_shows_no_data(client: TestClient, keys: Keys) -> None:
    client.cookies.set(KEY_COOKIE, keys.other_counter)
    response = client.get(PAGE)
    assert response.status_code == 403
    assert "counter-config" not in response.text


def test_the_screen_is_chinese_with_both_languages_for_the_toggle(
    client: TestClient, keys: Keys
) -> None:
    client.cookies.set(KEY_COOKIE, keys.counter)
    response = client.get(PAGE)
    assert '<html lang="zh-CN">' in response.text
    assert LABELS["zh-CN"]["waiting"] in response.text
    assert _config(response.text)["labels"] == LABELS
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


def test_both_languages_have_the_same_labels() -> None:
    assert LABELS["zh-CN"].keys() == LABELS["en"].keys()


def test_static_files_are_served(client: TestClient) -> None:
    script = client.get("/static/counter.js")
    assert script.status_code == 200
    assert "textContent" in script.text
    assert "innerHTML" not in script.text
    assert client.get("/static/counter.css").status_code == 200


def test_ids_with_separators_are_refused(client: TestClient, keys: Keys) -> None:
    client.cookies.set(KEY_COOKIE, keys.admin)
    assert client.get(f"/counter/{HALL}/C1:x").status_code == 422
