"""Schemathesis over the whole OpenAPI schema, in process: no 5xx, one error shape.

Every operation gets a bounded, derandomized batch of generated requests with an admin key
(so authorization does not hide the handlers); any answer of 500 or more fails, and every
4xx must be `{"error": {"status", "code", "message", "details"}}` with the status it came
with. The counter SSE stream never ends, so it is left out.
"""

from __future__ import annotations

import json

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error

from powerhall.settings import Settings
from serving.main import create_app
from tests.serving.conftest import Keys

MAX_EXAMPLES = 15


schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi()).exclude(
    path_regex=r"/stream$"
)
"""The app's own schema, taken without starting it: the requests go to each test's `app`
(its own database and feature store)."""


@schema.parametrize()
@hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_one_error_shape(
    case: schemathesis.Case, app: FastAPI, keys: Keys
) -> None:
    response = case.call_and_validate(
        base_url="http://testserver",
        app=app,
        headers=Keys.header(keys.admin),
        checks=[not_a_server_error],
    )
    if response.status_code < 400:
        return
    body = json.loads(response.content)
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"status", "code", "message"} <= set(error), error
    assert error["status"] == response.status_code
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error.get("details", []), list)
