"""Same seed, same bytes; chunking changes how rows are split into parts, not the data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from powerhall.contract import Table
from powerhall.errors import PowerhallError
from powerhall.synthetic import MANIFEST, TRUTH_DIR, generate


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _frames(root: Path) -> dict[str, pd.DataFrame]:
    names = [t.value for t in Table] + [
        f"{TRUTH_DIR}/{p.name}" for p in sorted((root / TRUTH_DIR).iterdir())
    ]
    return {name: pd.read_parquet(root / name) for name in names}


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    generate(customers=120, days=60, seed=5, out=tmp_path / "a")
    generate(customers=120, days=60, seed=5, out=tmp_path / "b")
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert first.keys() == second.keys()
    assert MANIFEST in first and any(name.startswith(TRUTH_DIR) for name in first)
    assert first == second


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    generate(customers=120, days=60, seed=5, out=tmp_path / "a")
    generate(customers=120, days=60, seed=6, out=tmp_path / "b")
    one = pd.read_parquet(tmp_path / "a" / Table.READINGS.value)
    other = pd.read_parquet(tmp_path / "b" / Table.READINGS.value)
    assert not one["kwh_12"].equals(other["kwh_12"])


def test_chunk_size_does_not_change_the_data(tmp_path: Path) -> None:
    generate(customers=230, days=60, seed=5, out=tmp_path / "small", chunk_size=100)
    generate(customers=230, days=60, seed=5, out=tmp_path / "one", chunk_size=1000)
    assert len(list((tmp_path / "small" / "readings").glob("part-*.parquet"))) == 3
    assert len(list((tmp_path / "one" / "readings").glob("part-*.parquet"))) == 1
    small, one = _frames(tmp_path / "small"), _frames(tmp_path / "one")
    assert small.keys() == one.keys()
    for name, frame in small.items():
        pd.testing.assert_frame_equal(frame, one[name], obj=name)


def test_a_rerun_replaces_the_previous_output(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    generate(customers=230, days=30, seed=5, out=out, chunk_size=100)
    generate(customers=50, days=30, seed=5, out=out, chunk_size=100)
    assert len(list((out / "readings").glob("part-*.parquet"))) == 1
    assert len(pd.read_parquet(out / Table.CUSTOMERS.value)) == 50


def test_refuses_a_directory_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("someone's data", encoding="utf-8")
    with pytest.raises(PowerhallError, match="not empty"):
        generate(customers=10, days=10, seed=5, out=tmp_path)
    assert (tmp_path / "notes.txt").exists()
