"""Settings of the feature store; environment prefix `POWERHALL_` like the rest of powerhall.

The embedded default keeps the registry and the SQLite online store under
`<data_dir>/feast/`; production swaps in a SQL registry and Redis by settings only.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from powerhall.contract import LOCAL_TIMEZONE

FEATURE_REPO = Path(__file__).resolve().parent / "feature_repo"


class FeatureSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POWERHALL_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Root of generated and ingested data.")
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
    def _production_needs_registry(self) -> FeatureSettings:
        if self.feature_store == "production" and not self.feast_registry_url:
            raise ValueError("feature_store=production needs POWERHALL_FEAST_REGISTRY_URL")
        return self

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def offline_dir(self) -> Path:
        """The profile builder's output: one Parquet table per feature view."""
        return self.data_dir / "features"

    @property
    def feast_dir(self) -> Path:
        """Registry, SQLite online store and materialization state of the embedded store."""
        return self.data_dir / "feast"

    @property
    def feature_store_yaml(self) -> Path:
        name = (
            "feature_store.yaml"
            if self.feature_store == "embedded"
            else ("feature_store.production.yaml")
        )
        return FEATURE_REPO / name


@lru_cache
def get_feature_settings() -> FeatureSettings:
    return FeatureSettings()
