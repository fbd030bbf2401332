"""`powerhall tariffs list | bill | compare` through the root CLI app."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from powerhall.cli import app
from powerhall.contract import CUSTOMER_COLUMNS, READING_COLUMNS

MakeReadings = Callable[..., pd.DataFrame]
runner = CliRunner()
WIDE = {"COLUMNS": "250"}  # rich tables wrap ids in a narrow terminal


def invoke(*args: str):
    return runner.invoke(app, ["tariffs", *args], env=WIDE)


@pytest.fixture
def readings_csv(tmp_path: Path, make_readings: MakeReadings) -> Path:
    path = tmp_path / "readings.csv"
    make_readings(
        [
            ("A", "2025-01-01", {23: 10}),
            ("A", "2025-01-02", {12: 20}),
            ("B", "2025-01-01", {8: 100}),
        ]
    ).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("command", [[], ["list"], ["bill"], ["compare"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = invoke(*command, "--help")

    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_list_filters_by_region_and_segment() -> None:
    result = invoke("list", "--region", "beijing", "--segment", "industrial")

    assert result.exit_code == 0, result.output
    assert "beijing-ind-capacity" in result.output
    assert "beijing-ind-demand" in result.output
    assert "illustrative" in result.output
    assert "beijing-res-tiered" not in result.output
    assert "shanghai" not in result.output


def test_bill_prints_itemised_json(readings_csv: Path) -> None:
    result = invoke("bill", "--tariff", "zhejiang-res-tou", "--readings", str(readings_csv))

    assert result.exit_code == 0, result.output
    a, b = json.loads(result.output)
    assert {"customer_id", "tariff_id", "total_cny", "items", "demand_cny", "fixed_cny"} <= set(a)
    assert (a["customer_id"], a["tariff_id"], a["missing_hours"]) == ("A", "zhejiang-res-tou", 0)
    assert a["total_cny"] == 14.24  # 10 x 0.288 + 20 x 0.568
    assert [(i["period"], i["kwh"], i["amount_cny"]) for i in a["items"]] == [
        ("peak", 20.0, 11.36),
        ("valley", 10.0, 2.88),
    ]
    assert b["total_cny"] == 56.8


def test_bill_one_customer_and_date_range(readings_csv: Path) -> None:
    result = invoke(
        "bill",
        "--tariff",
        "zhejiang-res-tou",
        "--readings",
        str(readings_csv),
        "--customer",
        "A",
        "--from",
        "2025-01-02",
        "--to",
        "2025-01-02",
    )

    assert result.exit_code == 0, result.output
    (only,) = json.loads(result.output)
    assert (only["customer_id"], only["total_cny"], only["start"]) == ("A", 11.36, "2025-01-02")


def test_bill_a_tariff_file_from_parquet(
    tmp_path: Path, make_readings: MakeReadings, write_tariff: Callable[..., Path]
) -> None:
    tariff = write_tariff(
        """\
        id: two-part
        name: 两部制（测试）
        segment: industrial
        currency: CNY
        effective_from: 2025-01-01
        prices_cny_per_kwh:
          all: [0.5]
        demand_charge:
          basis: capacity_kva
          cny_per_unit_month: 25.0
        """
    )
    days = [("F", str(d.date()), {10: 4}) for d in pd.date_range("2025-04-01", "2025-04-30")]
    parquet = tmp_path / "readings.parquet"
    make_readings(days).to_parquet(parquet)

    without = invoke("bill", "--tariff", str(tariff), "--readings", str(parquet))
    result = invoke(
        "bill", "--tariff", str(tariff), "--readings", str(parquet), "--capacity-kva", "100"
    )

    assert without.exit_code == 1
    assert "Error: tariff two-part charges by contract capacity" in without.output
    assert result.exit_code == 0, result.output
    (only,) = json.loads(result.output)
    assert (only["demand_cny"], only["total_cny"]) == (2500.0, 2560.0)  # + 120 kWh x 0.5


def test_bill_refuses_a_bad_tariff_file(readings_csv: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: bad\nname: 坏\nsegment: residential\ncurrency: CNY\neffective_from: 2025-01-01\n"
        "periods:\n  peak: ['08:00-22:00']\nprices_cny_per_kwh:\n  peak: [0.5]\n",
        encoding="utf-8",
    )

    result = invoke("bill", "--tariff", str(bad), "--readings", str(readings_csv))

    assert result.exit_code == 1
    assert f"Error: tariff file {bad}: periods: hours not covered" in result.output


def test_bill_unknown_tariff_id(readings_csv: Path) -> None:
    result = invoke("bill", "--tariff", "mars-res-tou", "--readings", str(readings_csv))

    assert result.exit_code == 1
    assert "Error: unknown tariff 'mars-res-tou'" in result.output


def write_lake(lake: Path, customers: list[dict[str, object]], readings: pd.DataFrame) -> None:
    """The lake layout of `powerhall ingest`: customers/, readings/month=YYYY-MM/."""
    frame = pd.DataFrame(customers)
    for column in CUSTOMER_COLUMNS:
        if column not in frame:
            frame[column] = None
    frame["contract_capacity_kva"] = frame["contract_capacity_kva"].astype(float)
    frame["created_at"] = pd.Timestamp("2020-01-01", tz="UTC")
    frame["closed_at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us, UTC]")
    (lake / "customers").mkdir(parents=True)
    frame[list(CUSTOMER_COLUMNS)].to_parquet(lake / "customers" / "part-0.parquet")

    readings = readings.assign(
        date=[date.fromisoformat(d) for d in readings["date"]],
        quality="actual",
        max_demand_kw=np.nan,
    )
    month = lake / "readings" / "month=2025-01"
    month.mkdir(parents=True)
    readings[list(READING_COLUMNS)].to_parquet(month / "part-0.parquet")


def test_compare_ranks_eligible_tariffs_from_the_lake(
    tmp_path: Path, make_readings: MakeReadings
) -> None:
    january = pd.date_range("2025-01-01", "2025-01-31")
    readings = make_readings(
        [("N1", str(d.date()), {23: 10}) for d in january]  # a night owl on the flat tariff
        + [("D1", str(d.date()), {12: 10}) for d in january]
    )
    customers = [
        {"customer_id": c, "segment": "residential", "region": "shanghai", "hall_id": "H1",
         "tariff_id": "shanghai-res-tiered", "has_app": True, "push_consent": True}
        for c in ("N1", "D1")
    ]  # fmt: skip
    write_lake(tmp_path / "lake", customers, readings)

    result = invoke("compare", "--customer", "N1", "--lake", str(tmp_path / "lake"))

    assert result.exit_code == 0, result.output
    out = result.output
    assert "2025-01-01 to 2025-01-31" in out
    # 310 kWh at 23:00: 310 x 0.307 = 95.17 on time of use, 310 x 0.617 = 191.27 flat
    assert out.index("shanghai-res-tou") < out.index("shanghai-res-tiered (current)")
    assert "95.17" in out and "191.27" in out and "96.10" in out


def test_compare_unknown_customer(tmp_path: Path, make_readings: MakeReadings) -> None:
    write_lake(
        tmp_path / "lake",
        [{"customer_id": "N1", "segment": "residential", "region": "beijing"}],
        make_readings([("N1", "2025-01-01", {})]),
    )

    result = invoke("compare", "--customer", "nobody", "--lake", str(tmp_path / "lake"))

    assert result.exit_code == 1
    assert "Error: customer nobody is not in the lake" in result.output
