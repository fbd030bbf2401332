"""Engine fixtures: the shipped catalogues once, engines built by hand, the small profiled
world of the feature tests, and a champion model in a temporary MLflow registry."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from powerhall.contract import Table
from powerhall.lake import read_table
from powerhall.settings import ContactPolicy, Settings
from powerhall.tariffs import load_catalogue
from powerhall.tips import load_tips
from serving.suggestions.candidates import Catalogue
from serving.suggestions.champions import Champions
from serving.suggestions.defaults import SegmentProfiles
from serving.suggestions.engine import Suggester
from tests.features.conftest import built, world  # noqa: F401  (session fixtures reused)
from training import complaint, tracking
from training.datasets import KEYS, derive_features, load_profiles
from training.model import RiskModel, RiskPyfunc
from training.registry import promote, register


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return Catalogue(load_tips(), load_catalogue())


def make_suggester(
    catalogue: Catalogue,
    *,
    defaults: SegmentProfiles | None = None,
    champions: Champions | None = None,
    policy: ContactPolicy | None = None,
) -> Suggester:
    return Suggester(
        catalogue=catalogue,
        policy=policy or ContactPolicy(),
        timezone="Asia/Shanghai",
        defaults=defaults or {},
        champions=champions or Champions(names=()),
    )


@pytest.fixture
def suggester(catalogue: Catalogue) -> Suggester:
    return make_suggester(catalogue)


@pytest.fixture(scope="session")
def latest_rows(built: Settings) -> pd.DataFrame:  # noqa: F811
    """Each customer's latest snapshot of every profile view, as the online store holds it."""
    frame = load_profiles(built.offline_dir)
    return frame.sort_values(list(KEYS)).groupby("customer_id").tail(1).reset_index(drop=True)


@pytest.fixture(scope="session")
def customers(built: Settings) -> pd.DataFrame:  # noqa: F811
    return read_table(built.lake_dir, Table.CUSTOMERS)


def fit_tiny_complaint_model(settings: Settings, seed: int = 1) -> RiskModel:
    """A complaint model on the small world's snapshots; labels follow the outage count, so
    the model has something to learn; what it learns is beside the point here."""
    customers = read_table(
        settings.lake_dir,
        Table.CUSTOMERS,
        columns=["customer_id", "segment", "contract_capacity_kva", "created_at", "closed_at"],
    )
    frame = derive_features(load_profiles(settings.offline_dir), customers, settings.timezone)
    features = tuple(f for f in complaint.DRIVERS if f in frame.columns)
    frame[list(features)] = frame[list(features)].astype("float64")
    rng = np.random.default_rng(seed)
    risk = (
        0.1
        + 0.2 * (frame["outages_90d"].fillna(0) > 0)
        + 0.3 * (frame["complaints_365d"].fillna(0) > 0)
    )
    labels = (rng.random(len(frame)) < risk).to_numpy(dtype=int)
    half = len(frame) // 2
    return RiskModel.fit(
        features,
        frame.iloc[:half],
        labels[:half],
        frame.iloc[half:],
        labels[half:],
        seed=seed,
        method="sigmoid",
    )


def register_champion(model: object, name: str = complaint.NAME) -> str:
    """Log `model` as a pyfunc, register it as a new version of `name` and make it champion."""
    tracking.use_experiment(name)
    with mlflow.start_run():
        python_model = RiskPyfunc(model)  # type: ignore[arg-type]
        # Explicit requirements: inferring them inspects the environment, slowly.
        info = mlflow.pyfunc.log_model(
            name="model", python_model=python_model, pip_requirements=["lightgbm"]
        )
    version = register(info.model_uri, name)
    promote(name, version)
    return version


@pytest.fixture(scope="session")
def registry_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("suggestions-mlruns") / "mlflow.db"


@contextmanager
def pointed_at(path: Path) -> Iterator[str]:
    """MLflow pointed at `path`'s registry, then back where it was (other test directories
    keep their own session registries)."""
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    try:
        yield tracking.configure(f"sqlite:///{path}")
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])


@pytest.fixture(scope="session")
def champion(registry_path: Path, tiny_model: RiskModel) -> str:
    """The tiny complaint model registered once as champion; returns its version."""
    with pointed_at(registry_path):
        return register_champion(tiny_model)


@pytest.fixture
def registry(registry_path: Path, champion: str) -> Iterator[str]:
    """The registry, with a good complaint champion, for one test."""
    with pointed_at(registry_path) as uri:
        yield uri


@pytest.fixture(scope="session")
def tiny_model(built: Settings) -> RiskModel:  # noqa: F811
    return fit_tiny_complaint_model(built)
