"""One validated settings object for every deployable; environment prefix `POWERHALL_`.

Nothing is read at import time: call `get_settings()` where a value is needed, so that
tests and the CLI can point the whole system elsewhere with environment variables.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from powerhall.contract import LOCAL_TIMEZONE


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POWERHALL_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Root of generated and ingested data.")
    seed: int = Field(7, description="Default seed of the generator and of training.")
    timezone: str = Field(LOCAL_TIMEZONE, description="Customers' local zone for dates.")

    feature_store: Literal["embedded", "production"] = Field(
        "embedded",
        description="embedded: file registry and SQLite under data_dir; production: SQL "
        "registry and Redis.",
    )
    feast_project: str = Field(
        "powerhall", description="Feast project: namespaces registry entries and online keys."
    )
    feast_registry_url: str = Field(
        "",
        description="SQLAlchemy URL of the SQL registry (production), e.g. "
        "postgresql+psycopg://feast@db:5432/feast.",
    )
    redis_connection: str = Field(
        "127.0.0.1:6379",
        description="Feast Redis connection string (production): host:port[,db=N][,password=..].",
    )
    materialize_batch_rows: int = Field(
        20_000, gt=0, description="Customers written to the online store per batch."
    )

    @model_validator(mode="after")
    def _production_needs_registry(self) -> Settings:
        if self.feature_store == "production" and not self.feast_registry_url:
            raise ValueError("feature_store=production needs POWERHALL_FEAST_REGISTRY_URL")
        return self

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def offline_dir(self) -> Path:
        """The profile builder's output: one Parquet table per feature view."""
        return self.data_dir / "features"

    @property
    def feast_dir(self) -> Path:
        """Registry, SQLite online store and materialization state of the embedded store."""
        return self.data_dir / "feast"


@lru_cache
def get_settings() -> Settings:
    return Settings()
