"""Fixtures of the ingest tests; row factories live in `factories.py`."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    """Input, lake and quarantine folders of one test."""
    return {
        "raw": tmp_path / "raw",
        "lake": tmp_path / "lake",
        "quarantine": tmp_path / "quarantine",
    }
