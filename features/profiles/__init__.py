"""Profile builder: the offline feature tables, from one SQL definition on DuckDB or Spark."""

from features.profiles.build import BuildResult, build_profiles, default_snapshots
from features.profiles.catalogue import VIEWS

__all__ = ["VIEWS", "BuildResult", "build_profiles", "default_snapshots"]
