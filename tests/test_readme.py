"""The README's two commands are the project's promise: check them as a user would."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from powerhall.contract import Table
from tests.support import REPO_ROOT

README = REPO_ROOT / "README.md"


def _bash_blocks(text: str) -> list[str]:
    return re.findall(r"```(?:bash|sh|shell)\n(.*?)```", text, flags=re.DOTALL)


def test_readme_shows_the_two_commands_first() -> None:
    first_block = _bash_blocks(README.read_text(encoding="utf-8"))[0]
    commands = [line.strip() for line in first_block.splitlines() if line.strip()]
    assert commands[:2] == ["make run", "make test"]


@pytest.mark.slow
def test_make_run_pipeline_on_a_tiny_dataset(tmp_path: Path) -> None:
    """`make run` minus the install: the same Makefile steps, on a few customers."""
    venv = Path(sys.prefix)
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(REPO_ROOT),
            "pipeline",
            f"VENV={venv}",
            f"DATA={tmp_path}",
            "CUSTOMERS=40",
            "DAYS=400",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for table in Table:
        lake_files = list((tmp_path / "lake" / table.value).rglob("*.parquet"))
        assert lake_files, f"no {table.value} in the lake"
    customers = pd.read_parquet(tmp_path / "lake" / Table.CUSTOMERS.value)
    assert len(customers) == 40
