"""`powerhall generate` as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from powerhall.cli import app
from powerhall.contract import Table
from powerhall.synthetic import MANIFEST

runner = CliRunner()


def test_generate_writes_every_table_and_a_manifest(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    result = runner.invoke(
        app,
        [
            "generate",
            "--customers",
            "40",
            "--days",
            "45",
            "--seed",
            "3",
            "--out",
            str(out),
            "--end",
            "2025-02-28",
            "--chunk-size",
            "100",
        ],
    )
    assert result.exit_code == 0, result.output
    for table in Table:
        assert list((out / table.value).glob("part-*.parquet")), table
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["seed"] == 3
    assert (manifest["start"], manifest["end"]) == ("2025-01-15", "2025-02-28")
    assert "readings" in result.output


def test_generate_refuses_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "keep.csv").write_text("a,b\n", encoding="utf-8")
    result = runner.invoke(app, ["generate", "--customers", "5", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "is not empty" in result.output
