"""Profile builder: the offline feature tables, from one SQL definition on DuckDB or Spark."""

from features.profiles.build import (
    DEFAULT_BUCKET_CUSTOMERS,
    BuildResult,
    build_profiles,
    default_snapshots,
)
from features.profiles.catalogue import VIEWS

__all__ = [
    "DEFAULT_BUCKET_CUSTOMERS",
    "VIEWS",
    "BuildResult",
    "build_profiles",
    "default_snapshots",
]
