"""The ingest report: what was read, accepted, quarantined and why, per table.

Invariants, checked when a file is added: rows read = accepted + quarantined, and, once
the lake is written, accepted = new + unchanged + replaced (a row is compared with the
version of its key before it: the lake's, or an earlier file's of the same run).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

from powerhall.contract import Table
from powerhall.ingest.readers import Skipped


@dataclass
class TableReport:
    table: Table
    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    new: int = 0
    unchanged: int = 0
    replaced: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    """Quarantined rows per reason; a row with several reasons counts under each."""

    def add_file(self, name: str, *, rows_read: int, accepted: int, reasons: Counter[str]) -> None:
        quarantined = rows_read - accepted
        if quarantined < 0 or (quarantined > 0) != bool(reasons):
            raise AssertionError(
                f"{name}: {rows_read} rows read, {accepted} accepted, reasons {dict(reasons)}"
            )
        self.files.append(name)
        self.rows_read += rows_read
        self.accepted += accepted
        self.quarantined += quarantined
        self.reasons.update(reasons)

    def add_lake_counts(self, *, new: int, unchanged: int, replaced: int) -> None:
        if new + unchanged + replaced != self.accepted:
            raise AssertionError(
                f"{self.table.value}: {self.accepted} accepted but {new} new + "
                f"{unchanged} unchanged + {replaced} replaced"
            )
        self.new, self.unchanged, self.replaced = new, unchanged, replaced


@dataclass
class IngestReport:
    tables: dict[Table, TableReport]
    skipped: list[Skipped]

    @property
    def rows_read(self) -> int:
        return sum(report.rows_read for report in self.tables.values())

    @property
    def accepted(self) -> int:
        return sum(report.accepted for report in self.tables.values())

    @property
    def quarantined(self) -> int:
        return sum(report.quarantined for report in self.tables.values())

    def to_dict(self) -> dict[str, object]:
        """Plain data for JSON: tables by name, reasons as a plain mapping."""
        return {
            "tables": {
                table.value: {
                    **asdict(report),
                    "table": table.value,
                    "reasons": dict(report.reasons),
                }
                for table, report in self.tables.items()
            },
            "skipped": [asdict(entry) for entry in self.skipped],
        }
