"""`powerhall push dispatch --once` and `powerhall push status`, in process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from powerhall.errors import InvalidRequestError
from powerhall.settings import get_settings
from serving.push.cli import app
from tests.serving.push.factories import queue_pushes
from tests.serving.push.gateway import Gateway


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("POWERHALL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POWERHALL_DATABASE_URL", db_url)
    monkeypatch.setenv("POWERHALL_PUSH_MAX_ATTEMPTS", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_dispatch_once_then_status(
    env: None,
    sessions: sessionmaker[Session],
    gateway: Gateway,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with sessions() as session:
        keys = queue_pushes(session, 3)
    gateway.fail_keys = {keys[0]}  # one try is all a push gets here
    monkeypatch.setenv("POWERHALL_PUSH_WEBHOOK_URL", gateway.url)
    get_settings.cache_clear()

    dispatched = CliRunner().invoke(app, ["dispatch", "--once", "--batch", "2"])
    status = CliRunner().invoke(app, ["status"])

    assert dispatched.exit_code == 0, dispatched.output
    assert "3 claimed, 2 delivered, 0 to retry, 1 dead" in dispatched.output
    assert status.exit_code == 0, status.output
    assert "delivered" in status.output and "Dead letters: 1" in status.output
    assert "HTTP 503" in status.output
    assert set(gateway.applied) == set(keys[1:])


def test_dispatch_without_a_gateway_is_refused(env: None) -> None:
    result = CliRunner().invoke(app, ["dispatch", "--once"])
    assert isinstance(result.exception, InvalidRequestError)
