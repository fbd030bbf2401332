"""The Spark engine runs the same SQL as DuckDB and gives the same numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features.profiles import VIEWS, build_profiles
from tests.features.lake import World

pytestmark = pytest.mark.spark


def test_spark_and_duckdb_build_equal_tables(world: World, tmp_path: Path) -> None:
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    from features.profiles.engines import SparkEngine

    build_profiles(world.lake_dir, tmp_path / "duckdb", engine="duckdb")
    spark = SparkEngine(master="local[1]", shuffle_partitions=2, driver_memory="1g")
    try:
        # In buckets of two customers: the range filter and the file moves run too.
        build_profiles(world.lake_dir, tmp_path / "spark", engine=spark, bucket_customers=2)
    finally:
        spark.close()
    for view in VIEWS:
        duck = pd.read_parquet(tmp_path / "duckdb" / view.name)
        other = pd.read_parquet(tmp_path / "spark" / view.name)
        other = other.sort_values(["customer_id", "event_timestamp"], ignore_index=True)
        assert len(duck) > 0
        pd.testing.assert_frame_equal(duck, other, check_dtype=False, rtol=1e-9, obj=view.name)
