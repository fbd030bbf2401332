"""The generated dataset the tests share, and how to read it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from powerhall.synthetic import TRUTH_DIR

CUSTOMERS = 200
DAYS = 400
SEED = 11


@dataclass(frozen=True)
class Generated:
    out: Path
    manifest: dict[str, Any]

    def table(self, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.out / name)

    def truth(self, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.out / TRUTH_DIR / name)


def local_day(stamps: pd.Series) -> pd.Series:
    """UTC timestamps as local (Asia/Shanghai) calendar days."""
    return stamps.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None).dt.normalize()
