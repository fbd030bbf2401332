"""One validated settings object for every deployable; environment prefix `POWERHALL_`.

Nothing is read at import time: call `get_settings()` where a value is needed, so that
tests and the CLI can point the whole system elsewhere with environment variables.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from powerhall.contract import LOCAL_TIMEZONE


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POWERHALL_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Root of generated and ingested data.")
    seed: int = Field(7, description="Default seed of the generator and of training.")
    timezone: str = Field(LOCAL_TIMEZONE, description="Customers' local zone for dates.")

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"


@lru_cache
def get_settings() -> Settings:
    return Settings()
