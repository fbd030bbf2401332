"""One ingest run: read and check every file, then write the lake and the quarantine.

Files are checked one at a time (a big readings table comes as parts, so memory stays
bounded by the largest part); customers first, because every other table's rows must
name a customer known to the lake or accepted in this run. Any file that cannot be read
stops the run with a `ContractError` before anything is written.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from powerhall.contract import LOCAL_TIMEZONE, TABLE_COLUMNS, Table
from powerhall.ingest.coerce import as_text, coerce
from powerhall.ingest.failures import combine, reasons_by_row
from powerhall.ingest.lake import LakeWriter
from powerhall.ingest.quarantine import Quarantine
from powerhall.ingest.readers import Source, content_hash, find_sources, read_source
from powerhall.ingest.report import IngestReport, TableReport
from powerhall.ingest.rules import duplicate_keys, unknown_customers, unknown_tariffs
from powerhall.ingest.schemas import schema_failures
from powerhall.lake import frame_from_arrow, read_table

logger = logging.getLogger(__name__)

_WITH_TARIFF = (Table.CUSTOMERS, Table.BILLS)


@dataclass(frozen=True)
class _CheckedFile:
    accepted: pa.Table
    rejected: pa.Table
    positions: np.ndarray
    reasons: list[str]
    reason_counts: Counter[str]


def ingest(
    raw_dir: Path | str,
    lake_dir: Path | str,
    quarantine_dir: Path | str,
    *,
    known_tariffs: Collection[str] | None = None,
    timezone: str = LOCAL_TIMEZONE,
    on_file: Callable[[str], None] | None = None,
) -> IngestReport:
    """Validate the contract tables under `raw_dir` into `lake_dir`, bad rows to quarantine.

    `known_tariffs`, when given, is the tariff catalogue that customers' and bills'
    `tariff_id` must come from. `timezone` is the zone of naive timestamps and of
    local months. `on_file` is called with each file's name before it is read.
    """
    raw_dir, lake_dir, quarantine_dir = Path(raw_dir), Path(lake_dir), Path(quarantine_dir)
    listing = find_sources(raw_dir)
    for entry in listing.skipped:
        logger.info("skipping %s: %s", entry.name, entry.why)
    reports = {table: TableReport(table) for table in Table if listing.sources[table]}
    quarantine = Quarantine(quarantine_dir)
    known = pd.Index(read_table(lake_dir, Table.CUSTOMERS, columns=["customer_id"])["customer_id"])
    with LakeWriter(lake_dir, timezone=timezone) as lake:
        for table, sources in listing.sources.items():  # Table order: customers first
            for source in sources:
                if on_file is not None:
                    on_file(source.name)
                checked = _check_file(source, known, known_tariffs, timezone)
                lake.stage(table, checked.accepted)
                quarantine.put(
                    table,
                    file_stem=source.stem,
                    file_hash=content_hash(source.path),
                    source_file=source.name,
                    rows=checked.rejected,
                    positions=checked.positions,
                    reasons=checked.reasons,
                )
                reports[table].add_file(
                    source.name,
                    rows_read=checked.accepted.num_rows + checked.rejected.num_rows,
                    accepted=checked.accepted.num_rows,
                    reasons=checked.reason_counts,
                )
                if table is Table.CUSTOMERS:
                    known = known.append(pd.Index(checked.accepted.column("customer_id")))
        for table, counts in lake.commit().items():
            reports[table].add_lake_counts(
                new=counts.new, unchanged=counts.unchanged, replaced=counts.replaced
            )
            logger.info("%s: %d partitions written", table.value, counts.partitions_written)
    quarantine.commit()
    return IngestReport(tables=reports, skipped=listing.skipped)


def _check_file(
    source: Source,
    known_customers: pd.Index,
    known_tariffs: Collection[str] | None,
    timezone: str,
) -> _CheckedFile:
    table = source.table
    raw = read_source(source)
    typed, conversion_failures = coerce(raw, table, source=source.name, timezone=timezone)
    frame = frame_from_arrow(typed)
    parts = [conversion_failures, schema_failures(table, frame), duplicate_keys(table, frame)]
    if table is not Table.CUSTOMERS:
        parts.append(unknown_customers(frame, known_customers))
    if table in _WITH_TARIFF:
        parts.append(unknown_tariffs(frame, known_tariffs))
    failures = combine(parts)
    by_row = reasons_by_row(failures, TABLE_COLUMNS[table])
    positions = by_row.index.to_numpy(dtype=np.int64)
    bad = np.zeros(raw.num_rows, dtype=bool)
    bad[positions] = True
    checked = _CheckedFile(
        accepted=typed.filter(pa.array(~bad)),
        rejected=as_text(raw.take(pa.array(positions))),
        positions=positions,
        reasons=by_row.tolist(),
        reason_counts=Counter(failures["reason"].tolist()),
    )
    if checked.accepted.num_rows + checked.rejected.num_rows != raw.num_rows:
        raise AssertionError(f"{source.name}: rows lost between reading and checking")
    logger.info("%s: %d rows, %d quarantined", source.name, raw.num_rows, checked.rejected.num_rows)
    return checked
