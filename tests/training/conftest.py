"""A small generated world, ingested and profiled once; MLflow in a temporary SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.profiles import build_profiles
from powerhall.ingest import ingest
from powerhall.settings import Settings
from powerhall.synthetic import generate
from training import complaint
from training.classifier import TrainResult, train_risk
from training.tracking import configure


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data = tmp_path_factory.mktemp("training-data")
    settings = Settings(data_dir=data, seed=5)
    generate(customers=400, days=500, seed=11, out=settings.raw_dir)
    ingest(settings.raw_dir, settings.lake_dir, settings.quarantine_dir)
    build_profiles(settings.lake_dir, settings.offline_dir)
    return settings


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    root: Path = tmp_path_factory.mktemp("mlruns")
    return configure(f"sqlite:///{root / 'mlflow.db'}")


@pytest.fixture(scope="session")
def complaint_run(settings: Settings, tracking_uri: str) -> TrainResult:
    """The complaint model trained, logged, registered and gated once."""
    return train_risk(complaint.SPEC, settings, tracking_uri=tracking_uri)
