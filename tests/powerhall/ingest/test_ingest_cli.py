"""`powerhall ingest` as a user runs it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from powerhall.cli import app
from powerhall.contract import Table
from tests.powerhall.ingest.factories import text_frames, with_rows, write_frames

runner = CliRunner()


def test_ingest_prints_the_report(dirs: dict[str, Path]) -> None:
    frames = text_frames()
    frames[Table.READINGS] = with_rows(
        frames[Table.READINGS], {"date": "2024-03-01", "kwh_07": "-1"}
    )
    write_frames(dirs["raw"], frames)
    (dirs["raw"] / "manifest.json").write_text("{}")

    result = runner.invoke(
        app,
        [
            "ingest",
            str(dirs["raw"]),
            "--into",
            str(dirs["lake"]),
            "--quarantine",
            str(dirs["quarantine"]),
        ],
        env={"COLUMNS": "200"},
    )

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    rows = [line.split() for line in lines]
    # table, read, accepted, quarantined, new, unchanged, replaced
    assert ["readings", "7", "6", "1", "6", "0", "0"] in rows
    assert ["readings", "negative", "kwh", "in", "kwh_07", "1"] in rows
    assert "manifest.json" in result.output
    assert list((dirs["lake"] / "readings").rglob("*.parquet"))


def test_unreadable_file_exits_1_with_one_line(dirs: dict[str, Path]) -> None:
    dirs["raw"].mkdir()
    (dirs["raw"] / "customers.parquet").write_bytes(b"not parquet at all")

    result = runner.invoke(app, ["ingest", str(dirs["raw"]), "--into", str(dirs["lake"])])

    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: customers.parquet: not a readable Parquet file")
    assert not list(dirs["lake"].rglob("*.parquet"))
