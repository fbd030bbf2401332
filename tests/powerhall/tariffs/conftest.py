"""Builders for tiny readings frames and tariff files, shared by the tariff tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from textwrap import dedent

import pandas as pd
import pytest

from powerhall.contract import KWH_COLUMNS

Day = tuple[str, str, Mapping[int, float]]


def readings_of(days: list[Day], **columns: list[object]) -> pd.DataFrame:
    """A readings frame from (customer_id, date, {hour: kWh}); other hours are 0."""
    rows = [
        {
            "customer_id": cid,
            "date": day,
            **{c: float(hours.get(h, 0.0)) for h, c in enumerate(KWH_COLUMNS)},
        }
        for cid, day, hours in days
    ]
    frame = pd.DataFrame(rows)
    for name, values in columns.items():
        frame[name] = values
    return frame


@pytest.fixture
def make_readings() -> Callable[..., pd.DataFrame]:
    return readings_of


@pytest.fixture
def write_tariff(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write YAML text (dedented) to `<tmp>/<name>.yaml` and return the path."""

    def write(text: str, name: str = "tariff") -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(dedent(text), encoding="utf-8")
        return path

    return write
