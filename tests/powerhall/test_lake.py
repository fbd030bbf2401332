"""The shared lake reader: every part reads the lake the same way, with the same types."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from powerhall.contract import CONTRACT_SCHEMAS, KWH_COLUMNS, TABLE_COLUMNS, Table
from powerhall.errors import ContractError
from powerhall.lake import PARTITION_COLUMNS, read_table, table_glob


def _write_readings(
    lake: Path, month: str, rows: list[dict[str, object]], *, drop: str = ""
) -> None:
    schema = CONTRACT_SCHEMAS[Table.READINGS]
    table = pa.Table.from_pylist(rows, schema=schema)
    if drop:
        table = table.drop_columns([drop])
    folder = lake / "readings" / f"month={month}"
    folder.mkdir(parents=True)
    pq.write_table(table, folder / "data.parquet")


def _reading(customer_id: str, day: date, kwh: float) -> dict[str, object]:
    return {
        "customer_id": customer_id,
        "date": day,
        **dict.fromkeys(KWH_COLUMNS, kwh),
        "quality": "actual",
        "max_demand_kw": 3.0,
    }


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    _write_readings(tmp_path, "2024-01", [_reading("C1", date(2024, 1, 31), 0.5)])
    # An older file without the optional column: read as null (union by name).
    _write_readings(
        tmp_path,
        "2024-02",
        [_reading("C1", date(2024, 2, 1), 0.25), _reading("C2", date(2024, 2, 1), 1.0)],
        drop="max_demand_kw",
    )
    return tmp_path


def test_schemas_cover_the_contract_and_partitions_do_not_clash() -> None:
    for table in Table:
        assert tuple(CONTRACT_SCHEMAS[table].names) == TABLE_COLUMNS[table]
    for table, column in PARTITION_COLUMNS.items():
        assert column not in TABLE_COLUMNS[table]


def test_table_glob_matches_every_partition(tmp_path: Path) -> None:
    assert table_glob(tmp_path, Table.READINGS) == f"{tmp_path}/readings/**/*.parquet"


def test_read_table_returns_contract_columns_with_lake_types(lake: Path) -> None:
    frame = read_table(lake, Table.READINGS)
    assert list(frame.columns) == list(TABLE_COLUMNS[Table.READINGS])
    assert str(frame["customer_id"].dtype) == "string"
    assert frame["date"].dtype == "datetime64[ms]"
    assert sorted(frame["max_demand_kw"].isna()) == [False, True, True]


def test_read_table_selects_columns_and_filters_by_partition(lake: Path) -> None:
    frame = read_table(
        lake,
        Table.READINGS,
        columns=["customer_id", "kwh_00"],
        where="month = ? AND customer_id = ?",
        params=["2024-02", "C2"],
    )
    assert frame.to_dict("list") == {"customer_id": ["C2"], "kwh_00": [1.0]}


def test_read_table_of_an_empty_lake_is_empty_and_typed(tmp_path: Path) -> None:
    frame = read_table(tmp_path / "nothing", Table.CUSTOMERS)
    assert frame.empty
    assert list(frame.columns) == list(TABLE_COLUMNS[Table.CUSTOMERS])
    assert isinstance(frame["created_at"].dtype, pd.DatetimeTZDtype)


def test_read_table_rejects_unknown_columns(lake: Path) -> None:
    with pytest.raises(ContractError, match="readings has no column"):
        read_table(lake, Table.READINGS, columns=["customer_id", "kwh_24"])
