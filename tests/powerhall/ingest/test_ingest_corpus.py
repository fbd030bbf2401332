"""The bad-input corpus: one bad row per rule, each quarantined with its exact reason.

All bad rows go in with the valid dataset in one ingest; the valid rows must all reach
the lake, every bad row must be in the quarantine with the expected reason, and nothing
may be lost (rows read = accepted + quarantined).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from powerhall.contract import TABLE_COLUMNS, Table
from powerhall.ingest import IngestReport, ingest
from powerhall.lake import read_table
from tests.powerhall.ingest.factories import TARIFFS, text_frames, with_rows, write_frames


@dataclass(frozen=True)
class Bad:
    """A copy of the table's first valid row with `changes`, `copies` times."""

    table: Table
    changes: dict[str, str]
    reason: str
    copies: int = 1


C, R, B, E, S = (
    Table.CUSTOMERS,
    Table.READINGS,
    Table.BILLS,
    Table.SERVICE_EVENTS,
    Table.SUGGESTION_OUTCOMES,
)
CORPUS = [
    Bad(C, {"customer_id": "X01", "segment": "foo"}, "unknown segment 'foo'"),
    Bad(C, {"customer_id": "X02", "region": "mars"}, "unknown region 'mars'"),
    Bad(
        C,
        {"customer_id": "X03", "closed_at": "2019-01-01 00:00:00+00:00"},
        "closed_at before created_at",
    ),
    Bad(C, {"customer_id": "X04", "has_app": "False"}, "push_consent without has_app"),
    Bad(
        C,
        {"customer_id": "X05", "segment": "commercial", "contract_capacity_kva": ""},
        "commercial or industrial without contract_capacity_kva > 0",
    ),
    Bad(C, {"customer_id": "X06", "contract_capacity_kva": "-5"}, "negative contract_capacity_kva"),
    Bad(C, {"customer_id": "X07", "has_app": "maybe"}, "has_app is not true or false"),
    Bad(C, {"customer_id": "X08", "created_at": "yesterday"}, "created_at does not parse"),
    Bad(C, {"customer_id": ""}, "customer_id is missing"),
    Bad(C, {"customer_id": "X10"}, "duplicate key (customer_id)", copies=2),
    Bad(C, {"customer_id": "X11", "tariff_id": "no-such"}, "unknown tariff_id 'no-such'"),
    Bad(
        C,
        {"customer_id": "X12", "segment": "foo", "region": "mars"},
        "unknown segment 'foo'; unknown region 'mars'",
    ),
    Bad(R, {"date": "2024-03-01", "kwh_07": "-0.5"}, "negative kwh in kwh_07"),
    Bad(R, {"date": "2024-03-02", "kwh_03": "abc"}, "kwh_03 is not a number"),
    Bad(R, {"date": "2024-03-03", "kwh_10": "inf"}, "kwh_10 is not finite"),
    Bad(R, {"date": "2024-02-30"}, "date does not parse"),
    Bad(R, {"date": "2024-03-05", "quality": "guess"}, "unknown quality 'guess'"),
    Bad(R, {"date": "2024-03-06"}, "duplicate key (customer_id, date)", copies=2),
    Bad(R, {"customer_id": "C999", "date": "2024-03-07"}, "unknown customer_id"),
    Bad(R, {"date": "2024-03-08", "max_demand_kw": "-1"}, "negative max_demand_kw"),
    Bad(R, {"customer_id": "X01", "date": "2024-03-09"}, "unknown customer_id"),  # quarantined
    Bad(
        R,
        {"date": "2024-03-10", "kwh_07": "-1", "quality": "x"},
        "negative kwh in kwh_07; unknown quality 'x'",
    ),
    Bad(B, {"period": "2024-13"}, "period not YYYY-MM"),
    Bad(B, {"period": "202402"}, "period not YYYY-MM"),
    Bad(B, {"period": "2024-03", "kwh": "-10"}, "negative kwh"),
    Bad(B, {"period": "2024-04", "due_date": "2024/05/20"}, "due_date does not parse"),
    Bad(B, {"customer_id": "C998", "period": "2024-05"}, "unknown customer_id"),
    Bad(B, {"period": "2024-06", "tariff_id": "nope"}, "unknown tariff_id 'nope'"),
    Bad(B, {"period": "2024-07"}, "duplicate key (customer_id, period)", copies=2),
    Bad(B, {"period": "2024-08", "amount_cny": ""}, "amount_cny is missing"),
    Bad(E, {"event_id": "B1", "wait_minutes": ""}, "hall_visit without wait_minutes"),
    Bad(E, {"event_id": "B2", "kind": "survey", "satisfaction": "7"}, "satisfaction out of 1..5"),
    Bad(E, {"event_id": "B3", "kind": "survey", "satisfaction": "0"}, "satisfaction out of 1..5"),
    Bad(
        E,
        {"event_id": "B4", "kind": "survey", "satisfaction": "2.5"},
        "satisfaction is not a whole number",
    ),
    Bad(E, {"event_id": "B5", "kind": "party"}, "unknown kind 'party'"),
    Bad(E, {"event_id": "B6", "ts": "2024-13-45 25:00"}, "ts does not parse"),
    Bad(E, {"event_id": "B7"}, "duplicate key (event_id)", copies=2),
    Bad(E, {"event_id": "B8", "customer_id": "C997"}, "unknown customer_id"),
    Bad(E, {"event_id": "B9", "wait_minutes": "-3"}, "negative wait_minutes"),
    Bad(E, {"event_id": "B10", "channel": "fax"}, "unknown channel 'fax'"),
    Bad(
        S,
        {"suggestion_id": "T1", "outcome_at": "2024-01-09 00:00:00+00:00"},
        "outcome_at before shown_at",
    ),
    Bad(S, {"suggestion_id": "T2", "outcome": "maybe"}, "unknown outcome 'maybe'"),
    Bad(S, {"suggestion_id": "T3", "customer_id": "C996"}, "unknown customer_id"),
    Bad(S, {"suggestion_id": "T4"}, "duplicate key (suggestion_id)", copies=2),
    Bad(S, {"suggestion_id": "T5", "kind": "lottery"}, "unknown kind 'lottery'"),
    Bad(S, {"suggestion_id": ""}, "suggestion_id is missing"),
]


@dataclass(frozen=True)
class CorpusRun:
    report: IngestReport
    lake: Path
    quarantine: dict[Table, pd.DataFrame]
    valid_rows: dict[Table, int]
    expected: dict[Table, dict[int, str]]
    """Expected reason by 1-based source row, per table."""
    rows_of: list[list[int]]
    """The 1-based source rows of each case of `CORPUS`, in its order."""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    root = tmp_path_factory.mktemp("corpus")
    frames = text_frames()
    valid_rows = {table: len(frame) for table, frame in frames.items()}
    expected: dict[Table, dict[int, str]] = {table: {} for table in Table}
    rows_of: list[list[int]] = []
    for bad in CORPUS:
        start = len(frames[bad.table])
        frames[bad.table] = with_rows(frames[bad.table], *[bad.changes] * bad.copies)
        rows_of.append(list(range(start + 1, start + bad.copies + 1)))
        expected[bad.table].update(dict.fromkeys(rows_of[-1], bad.reason))
    write_frames(root / "raw", frames)
    report = ingest(root / "raw", root / "lake", root / "quarantine", known_tariffs=TARIFFS)
    quarantine = {
        table: pd.concat(
            [
                pd.read_parquet(path)
                for path in sorted((root / "quarantine" / table.value).glob("*.parquet"))
            ]
        )
        for table in Table
    }
    return CorpusRun(report, root / "lake", quarantine, valid_rows, expected, rows_of)


@pytest.mark.parametrize(
    "case", range(len(CORPUS)), ids=[f"{bad.table.value}: {bad.reason}" for bad in CORPUS]
)
def test_each_bad_row_is_quarantined_with_its_reason(corpus: CorpusRun, case: int) -> None:
    bad = CORPUS[case]
    rejected = corpus.quarantine[bad.table]
    rows = corpus.rows_of[case]
    found = rejected.set_index("source_row").loc[rows]
    assert (found["reason"] == bad.reason).all(), found["reason"].tolist()
    for column, value in bad.changes.items():
        # The row is kept as it was written: text, an empty field as null.
        assert found[column].tolist() == [value or None] * len(rows)


@pytest.mark.parametrize("table", list(Table), ids=str)
def test_nothing_is_lost_and_only_bad_rows_are_quarantined(corpus: CorpusRun, table: Table) -> None:
    report = corpus.report.tables[table]
    expected = corpus.expected[table]
    assert report.rows_read == corpus.valid_rows[table] + len(expected)
    assert report.rows_read == report.accepted + report.quarantined
    assert report.quarantined == len(expected)
    assert report.accepted == report.new == corpus.valid_rows[table]
    assert (
        dict(
            zip(
                corpus.quarantine[table]["source_row"],
                corpus.quarantine[table]["reason"],
                strict=True,
            )
        )
        == expected
    )
    assert len(read_table(corpus.lake, table)) == corpus.valid_rows[table]


@pytest.mark.parametrize("table", list(Table), ids=str)
def test_report_counts_rows_per_reason(corpus: CorpusRun, table: Table) -> None:
    """A row with several reasons counts under each of them."""
    expected = Counter(
        part for reason in corpus.expected[table].values() for part in reason.split("; ")
    )
    assert corpus.report.tables[table].reasons == expected


@pytest.mark.parametrize("table", list(Table), ids=str)
def test_quarantine_keeps_the_original_columns_as_text(corpus: CorpusRun, table: Table) -> None:
    rejected = corpus.quarantine[table]
    assert list(rejected.columns) == [*TABLE_COLUMNS[table], "reason", "source_file", "source_row"]
    assert set(rejected["source_file"]) == {f"{table.value}.csv"}
    text_columns = rejected[list(TABLE_COLUMNS[table])]
    assert all(pd.api.types.is_string_dtype(dtype) for dtype in text_columns.dtypes)
