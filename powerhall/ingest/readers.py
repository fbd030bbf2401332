"""Finding the contract tables in an input folder and reading each file as it is.

A file is read without interpreting its values (CSV columns stay text), so that a bad value
becomes a quarantined row with its reason rather than a failed read. Only a file that
cannot be read at all, or whose columns are not the contract's, is a `ContractError`.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from powerhall.contract import TABLE_COLUMNS, Table
from powerhall.errors import ContractError
from powerhall.ingest.schemas import OPTIONAL_COLUMNS

logger = logging.getLogger(__name__)

SUFFIXES: Final = (".parquet", ".csv")
GENERATOR_ENTRIES: Final = {
    "truth": "hidden truth of the synthetic generator, not a contract table",
    "manifest.json": "manifest of the synthetic generator, not a contract table",
}

_PANDAS_INDEX_PREFIX: Final = "__index_level_"


@dataclass(frozen=True)
class Source:
    """One input file of one contract table; `name` is its path relative to the input."""

    table: Table
    path: Path
    name: str

    @property
    def stem(self) -> str:
        return self.path.name[: -len(self.path.suffix)] if self.path.suffix else self.path.name


@dataclass(frozen=True)
class Skipped:
    """An entry of the input folder that is not ingested, and why."""

    name: str
    why: str


@dataclass(frozen=True)
class SourceListing:
    sources: dict[Table, list[Source]]
    skipped: list[Skipped]


def find_sources(raw_dir: Path) -> SourceListing:
    """Contract files under `raw_dir`: `<table>.parquet|csv` or `<table>/**/*.parquet|csv`.

    A table's single files come first, then its folder's parts in path order: that order
    decides which of two rows with the same key is newer. Entries that are not contract
    tables (the generator's `truth/` and `manifest.json`, anything else) are skipped and
    listed; a file inside a table's folder that is neither Parquet nor CSV is an error,
    since it was meant to be part of that table (hidden and `_`-prefixed marker files,
    such as Spark's `_SUCCESS`, are passed over).
    """
    if not raw_dir.is_dir():
        raise ContractError(f"{raw_dir}: no such directory")
    tables = {table.value: table for table in Table}
    files: dict[Table, list[Source]] = {table: [] for table in Table}
    parts: dict[Table, list[Source]] = {table: [] for table in Table}
    skipped: list[Skipped] = []
    for entry in sorted(raw_dir.iterdir()):
        suffix = entry.suffix.lower()
        stem = entry.name[: -len(entry.suffix)] if entry.suffix else entry.name
        if entry.name in GENERATOR_ENTRIES:
            skipped.append(Skipped(entry.name, GENERATOR_ENTRIES[entry.name]))
        elif entry.is_dir() and entry.name in tables:
            parts[tables[entry.name]] = _folder_sources(raw_dir, entry, tables[entry.name])
        elif entry.is_file() and stem in tables:
            if suffix not in SUFFIXES:
                raise ContractError(f"{entry.name}: not a Parquet or CSV file")
            files[tables[stem]].append(Source(tables[stem], entry, entry.name))
        else:
            skipped.append(Skipped(entry.name, "not a contract table"))
    sources = {table: files[table] + parts[table] for table in Table}
    if not any(sources.values()):
        names = ", ".join(table.value for table in Table)
        raise ContractError(f"{raw_dir}: no contract tables ({names}) found")
    return SourceListing(sources, skipped)


def _folder_sources(raw_dir: Path, folder: Path, table: Table) -> list[Source]:
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(raw_dir).as_posix()
        if path.name.startswith((".", "_")):
            continue  # hidden files and markers such as Spark's _SUCCESS
        if path.suffix.lower() not in SUFFIXES:
            raise ContractError(f"{name}: not a Parquet or CSV file")
        found.append(Source(table, path, name))
    return found


def content_hash(path: Path) -> str:
    """Short digest of a file's bytes: the same file always names the same quarantine."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()[:12]


def read_source(source: Source) -> pa.Table:
    """The file's rows as they are, its columns checked against the contract."""
    if source.path.suffix.lower() == ".parquet":
        return _read_parquet(source)
    return _read_csv(source)


def _check_columns(source: Source, columns: list[str]) -> None:
    contract = TABLE_COLUMNS[source.table]
    problems = []
    duplicated = sorted({name for name in columns if columns.count(name) > 1})
    if duplicated:
        problems.append(f"duplicated column(s) {', '.join(duplicated)}")
    required = [n for n in contract if n not in OPTIONAL_COLUMNS[source.table]]
    missing = [name for name in required if name not in columns]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    unexpected = [name for name in columns if name not in contract]
    if unexpected:
        problems.append(f"unexpected column(s) {', '.join(unexpected)}")
    if problems:
        raise ContractError(
            f"{source.name}: wrong columns for {source.table.value}: {'; '.join(problems)} "
            f"(expected {', '.join(contract)})"
        )


def _read_parquet(source: Source) -> pa.Table:
    try:
        parquet = pq.ParquetFile(source.path)
        columns = [n for n in parquet.schema_arrow.names if not n.startswith(_PANDAS_INDEX_PREFIX)]
        _check_columns(source, columns)
        rows = parquet.read(columns=columns)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        # A damaged footer can hold a column name that is not UTF-8: pyarrow then raises
        # UnicodeDecodeError, not one of its own errors.
        raise ContractError(f"{source.name}: not a readable Parquet file ({exc})") from exc
    _check_text_is_utf8(source, rows)
    return rows


def _check_text_is_utf8(source: Source, rows: pa.Table) -> None:
    """Parquet readers do not check that text is UTF-8 (a damaged page, or GBK bytes
    written as text); unchecked, such text breaks the lake's writer, so refuse it here."""
    for name, column in zip(rows.column_names, rows.columns, strict=True):
        value_type = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if not (pa.types.is_string(value_type) or pa.types.is_large_string(value_type)):
            continue
        try:
            column.validate(full=True)
        except pa.ArrowInvalid as exc:
            raise ContractError(
                f"{source.name}: column {name} holds text that is not UTF-8 ({exc})"
            ) from exc


def _csv_header(source: Source) -> list[str]:
    with source.path.open("rb") as handle:
        first_line = handle.readline()
    if not first_line.strip():
        raise ContractError(f"{source.name}: empty CSV file, no header")
    # UTF-8 (with or without BOM) first, then GB18030, the superset of GBK that utilities use.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = first_line.decode(encoding)
        except UnicodeDecodeError:
            continue
        try:
            return next(csv.reader([text.rstrip("\r\n")]))
        except csv.Error as exc:  # a stray carriage return inside the header
            raise ContractError(f"{source.name}: header is not one CSV line ({exc})") from exc
    raise ContractError(f"{source.name}: header is neither UTF-8 nor GBK text")


def _read_csv(source: Source) -> pa.Table:
    columns = _csv_header(source)
    _check_columns(source, columns)
    try:
        return _parse_csv(source, source.path, columns, encoding="utf8")
    except pa.ArrowInvalid as exc:
        if "invalid UTF8" not in str(exc):
            raise ContractError(f"{source.name}: not a readable CSV file ({exc})") from exc
    try:
        mended = _utf8_with_gbk_lines(source.path.read_bytes())
        if mended is not None:
            logger.info("%s: UTF-8 with some GBK lines, each read in its encoding", source.name)
            return _parse_csv(source, pa.BufferReader(mended), columns, encoding="utf8")
        logger.debug("%s is not UTF-8, reading it as GB18030", source.name)
        return _parse_csv(source, source.path, columns, encoding="gb18030")
    except pa.ArrowInvalid as exc:
        raise ContractError(f"{source.name}: not a readable CSV file ({exc})") from exc
    except UnicodeDecodeError as exc:  # pyarrow transcodes through Python's codec
        raise ContractError(f"{source.name}: text is neither UTF-8 nor GBK ({exc})") from exc


def _utf8_with_gbk_lines(data: bytes) -> bytes | None:
    """The file in UTF-8 when it is a UTF-8 export with some GBK lines pasted in, those
    lines transcoded from GB18030; None when it is a GBK file.

    Read whole as GB18030, such a file would turn its UTF-8 text into other Chinese
    characters without any error. A line that decodes as UTF-8 to a character beyond
    U+07FF (Chinese takes three bytes) is evidence of UTF-8: GBK text decodes so only by
    rare chance, while a short GBK value often decodes as two-byte UTF-8 (Cyrillic,
    Greek). The file is UTF-8 when such lines are at least as many as the lines that are
    not UTF-8. Splitting at newlines is safe in both encodings: no multi-byte character of
    either holds the byte 0x0A."""
    lines = data.split(b"\n")
    not_utf8, utf8_evidence = [], 0
    for number, line in enumerate(lines):
        if line.isascii():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            not_utf8.append(number)
            continue
        utf8_evidence += any(ord(char) > 0x7FF for char in text)
    if utf8_evidence < len(not_utf8):
        return None
    for number in not_utf8:
        lines[number] = lines[number].decode("gb18030").encode("utf-8")
    return b"\n".join(lines)


def _parse_csv(
    source: Source, data: Path | pa.NativeFile, columns: list[str], *, encoding: str
) -> pa.Table:
    """Every column as text, only an empty field as null; a short or long row is an error
    (that is how a truncated file shows).

    The header is skipped and `columns` (the header as checked) name the columns: read as
    GB18030, a UTF-8 BOM before the header would otherwise rename the first column."""
    try:
        return pcsv.read_csv(
            data,
            read_options=pcsv.ReadOptions(encoding=encoding, skip_rows=1, column_names=columns),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(columns, pa.string()),
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except OSError as exc:
        raise ContractError(f"{source.name}: cannot be read ({exc})") from exc
