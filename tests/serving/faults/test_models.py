"""A champion's artifact corrupted, then deleted, in the registry under a serving app: the
reload keeps the last good version serving, and both the reload's answer and /readyz say
which model failed and why."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from fastapi.testclient import TestClient
from mlflow import MlflowClient

from powerhall.settings import Settings
from serving.main import create_app
from tests.features.lake import World
from tests.serving.conftest import Keys
from tests.serving.suggestions.conftest import (
    fit_tiny_complaint_model,
    pointed_at,
    register_champion,
)
from training import complaint

PICKLED_MODEL = "python_model.pkl"
"""Where a pyfunc keeps its Python object (`RiskPyfunc`), in the logged model's artifacts."""


def _artifacts(name: str, version: str) -> Path:
    """The local folder of a registered version's logged model."""
    client = MlflowClient()
    source = client.get_model_version(name, version).source  # models:/<logged model id>
    assert source is not None and source.startswith("models:/"), source
    logged = client.get_logged_model(source.removeprefix("models:/"))
    return Path(url2pathname(urlparse(logged.artifact_location).path))


def _reload(client: TestClient, keys: Keys) -> dict[str, Any]:
    response = client.post("/v1/admin/models/reload", headers=Keys.header(keys.admin))
    assert response.status_code == 200, response.text
    return response.json()


def _complaint_failure(client: TestClient) -> str | None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text  # a failed load never takes it out
    return response.json()["model_failures"].get(complaint.NAME)


def _online_scoring(client: TestClient, keys: Keys, customer_id: str, n: int) -> dict[str, str]:
    """The model versions of an answer scored online: an outage newer than the batch
    scores makes the complaint champion score the profile at request time."""
    event = client.post(
        "/v1/events",
        json={
            "event_id": f"E-models-{n}",
            "customer_id": customer_id,
            "kind": "outage",
            "ts": datetime.now(UTC).isoformat(),
        },
        headers=Keys.header(keys.admin),
    )
    assert event.json()["pushed"] is True, event.text
    answer = client.get(
        f"/v1/customers/{customer_id}/suggestions?channel=app", headers=Keys.header(keys.app)
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["model_versions"]


def test_a_broken_champion_leaves_the_last_good_one_serving(
    settings: Settings, keys: Keys, model_registry: str, serving_world: World
) -> None:
    customer_id = serving_world.customers[0]
    with pointed_at(Path(model_registry.removeprefix("sqlite:///"))):
        model = fit_tiny_complaint_model(settings)
        good = register_champion(model)
        app = create_app(settings, tracking_uri=model_registry)
        with TestClient(app) as client:
            assert app.state.suggester.model_versions[complaint.NAME] == good
            assert _complaint_failure(client) is None
            before = _online_scoring(client, keys, customer_id, 1)
            assert (before[complaint.NAME], before["scoring"]) == (good, "online")

            broken = register_champion(model)  # the alias moves to a new version...
            artifacts = _artifacts(complaint.NAME, broken)
            (artifacts / PICKLED_MODEL).write_bytes(b"not a pickle")  # ...corrupted
            reloaded = _reload(client, keys)
            assert reloaded["model_versions"][complaint.NAME] == good
            assert f"keeping version {good}" in reloaded["failed"][complaint.NAME]
            assert f"keeping version {good}" in (_complaint_failure(client) or "")

            shutil.rmtree(artifacts)  # ...then deleted
            reloaded = _reload(client, keys)
            assert reloaded["model_versions"][complaint.NAME] == good
            failure = reloaded["failed"][complaint.NAME]
            assert f"keeping version {good}" in failure
            assert _complaint_failure(client) == failure
            after = _online_scoring(client, keys, customer_id, 2)
            assert (after[complaint.NAME], after["scoring"]) == (good, "online")
