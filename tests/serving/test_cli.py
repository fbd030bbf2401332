"""`powerhall db`, `keys` and `feedback export` against a temporary data directory."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from powerhall.cli import app
from powerhall.settings import get_settings
from tests.features.lake import World


@pytest.fixture
def data_dir(
    serving_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    data = tmp_path / "data"
    shutil.copytree(serving_world.lake_dir, data / "lake")
    monkeypatch.setenv("POWERHALL_DATA_DIR", str(data))
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_db_and_keys_commands(data_dir: Path) -> None:
    assert "head" in _run("db", "upgrade")
    assert (data_dir / "powerhall.db").exists()
    assert "8 customers synced" in _run("db", "sync-customers")
    assert "8 customers synced" in _run("db", "sync-customers")
    created = _run("keys", "create", "--role", "counter", "--hall", "H01", "--name", "desk")
    token = re.search(r"ph_\S+", created)
    assert token is not None
    listed = _run("keys", "list")
    assert "desk" in listed and token.group(0) not in listed
    assert "revoked" in _run("keys", "revoke", "1")
    refused = CliRunner().invoke(app, ["keys", "create", "--role", "counter"])
    assert refused.exit_code == 1
    assert "Error: a counter key belongs to one hall" in refused.output


def test_feedback_export_with_nothing_to_export(data_dir: Path) -> None:
    assert "0 outcomes written" in _run("feedback", "export")
