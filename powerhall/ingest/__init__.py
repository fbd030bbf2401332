"""Validated ingest of the contract tables into the lake (`powerhall ingest`).

`ingest(raw_dir, lake_dir, quarantine_dir)` reads every contract file, converts it to
the lake's types, checks it against the contract (pandera schemas in `schemas`, rules
across rows and tables in `rules`), writes good rows to the partitioned Parquet lake by
key (`lake`) and bad rows with their reasons to the quarantine (`quarantine`), and
returns an `IngestReport`.
"""

from powerhall.ingest.pipeline import ingest
from powerhall.ingest.report import IngestReport, TableReport

__all__ = ["IngestReport", "TableReport", "ingest"]
