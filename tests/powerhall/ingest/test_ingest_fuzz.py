"""Fuzzing the ingest edge: whatever the files hold, no traceback, no row lost, no drift.

Hypothesis draws input folders from `raw_files.raw_inputs` (valid data damaged the ways
real exports are) and checks three properties of `ingest` on each:

- it either stops with a `ContractError` that starts with the file's name (and writes
  nothing), or reads the file; a file whose only damage is in its values must be read;
- every row read is in the lake or in the quarantine, with a reason, exactly once (a
  quarantined CSV row with its values as written), and rows read equals the rows written
  when the bytes are intact;
- ingesting the same folder again changes no byte of the lake or quarantine.

And the other side, from `raw_files.valid_customers`: valid values in the spellings
exports use (booleans as 是/yes/1, naive local or offset timestamps, exponents) are all
accepted, each with its value.

The run is derandomized and bounded (`MAX_EXAMPLES`) so that it takes seconds in CI;
failures it found are pinned as named tests in `test_ingest_fuzz_regressions.py`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings

from powerhall.contract import Table
from powerhall.errors import ContractError
from powerhall.ingest import ingest
from powerhall.lake import read_table
from tests.powerhall.ingest.factories import TARIFFS, snapshot
from tests.powerhall.ingest.raw_files import RawInput, ValidCustomers, raw_inputs, valid_customers

MAX_EXAMPLES = 30
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _quarantined(quarantine: Path, raw: RawInput) -> pd.DataFrame:
    files = sorted((quarantine / raw.target.value).glob("*.parquet"))
    if not files:
        return pd.DataFrame({"reason": [], "source_file": [], "source_row": []}, dtype=object)
    return pd.concat([pd.read_parquet(path) for path in files], ignore_index=True)


def _assert_kept_as_written(rejected: pd.DataFrame, written: pd.DataFrame) -> None:
    """A quarantined CSV row holds its values as written, an empty field as null."""
    for _, row in rejected.iterrows():
        expected = written.iloc[row["source_row"] - 1]
        for column, value in expected.items():
            assert row[column] == (value or None), (row["source_row"], column)


@FUZZ
@given(raw=raw_inputs())
def test_ingest_reads_or_names_the_file_and_accounts_for_every_row(raw: RawInput) -> None:
    with tempfile.TemporaryDirectory() as root:
        raw_dir = raw.write(Path(root) / "raw")
        lake, quarantine = Path(root) / "lake", Path(root) / "quarantine"
        try:
            report = ingest(raw_dir, lake, quarantine, known_tariffs=TARIFFS)
        except ContractError as exc:
            assert not raw.must_read, f"{raw.description}: refused: {exc}"
            assert str(exc).startswith(f"{raw.target_file}: "), str(exc)
            assert not snapshot(lake, quarantine), "a refused input wrote files"
            return

        counts = report.tables[raw.target]
        if raw.must_read:
            assert counts.rows_read == raw.rows_written, raw.description
        rejected = _quarantined(quarantine, raw)
        assert len(rejected) == counts.quarantined
        assert counts.accepted + counts.quarantined == counts.rows_read
        assert rejected["source_row"].is_unique
        assert rejected["source_row"].between(1, counts.rows_read).all()
        assert all(isinstance(reason, str) and reason for reason in rejected["reason"])
        assert set(rejected["source_file"]) <= {raw.target_file}
        if raw.utf8_csv:
            _assert_kept_as_written(rejected, raw.written)
        # One file into an empty lake: every accepted row is new and is in the lake.
        assert counts.new == counts.accepted == len(read_table(lake, raw.target))

        before = snapshot(lake, quarantine)
        again = ingest(raw_dir, lake, quarantine, known_tariffs=TARIFFS).tables[raw.target]
        assert snapshot(lake, quarantine) == before, raw.description
        assert (again.new, again.replaced, again.unchanged) == (0, 0, counts.accepted)
        assert again.quarantined == counts.quarantined


@FUZZ
@given(customers=valid_customers())
def test_valid_values_in_any_spelling_reach_the_lake_as_written(
    customers: ValidCustomers,
) -> None:
    """The other side of the contract: what is valid is accepted, with its value."""
    with tempfile.TemporaryDirectory() as root:
        raw_dir = Path(root) / "raw"
        raw_dir.mkdir()
        (raw_dir / "customers.csv").write_bytes(customers.text.to_csv(index=False).encode())

        report = ingest(raw_dir, Path(root) / "lake", Path(root) / "quarantine")

        assert report.tables[Table.CUSTOMERS].quarantined == 0, report.tables[Table.CUSTOMERS]
        lake = read_table(Path(root) / "lake", Table.CUSTOMERS).set_index("customer_id")
        expected = customers.expected.set_index("customer_id")
        lake = lake.loc[expected.index]
        assert lake["has_app"].tolist() == expected["has_app"].tolist()
        assert lake["push_consent"].tolist() == expected["push_consent"].tolist()
        assert lake["created_at"].tolist() == expected["created_at"].tolist()
        capacity = lake["contract_capacity_kva"].to_numpy(dtype=float, na_value=np.nan)
        np.testing.assert_allclose(
            capacity, expected["contract_capacity_kva"].to_numpy(dtype=float), rtol=1e-12
        )
