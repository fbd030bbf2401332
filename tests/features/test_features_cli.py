"""`powerhall features build | apply | materialize` end to end on a tiny lake."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from features.cli import app
from powerhall.settings import get_settings
from tests.features.lake import small_world


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    small_world(tmp_path / "lake", customers=3, days=120)
    monkeypatch.setenv("POWERHALL_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_build_then_materialize(data_dir: Path) -> None:
    runner = CliRunner()
    built = runner.invoke(app, ["build", "--latest", "--bucket-customers", "2"])
    assert built.exit_code == 0, built.output
    assert "1 weekly snapshots" in built.output
    parts = sorted(p.name for p in (data_dir / "features" / "consumption").iterdir())
    assert parts == ["part-00000.parquet", "part-00001.parquet"]

    loaded = runner.invoke(app, ["materialize"])
    assert loaded.exit_code == 0, loaded.output
    assert "consumption" in loaded.output
    again = runner.invoke(app, ["materialize"])
    assert re.search(r"consumption\s*│\s*3\s*│\s*0\s*│", again.output), again.output


def test_unknown_engine_is_a_usage_error(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["build", "--engine", "pandas"])
    assert result.exit_code == 2
    assert "Invalid value for '--engine'" in result.output
    assert "'pandas'" in result.output


def test_empty_buckets_are_a_usage_error(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["build", "--bucket-customers", "0"])
    assert result.exit_code == 2
    assert "--bucket-customers" in result.output
