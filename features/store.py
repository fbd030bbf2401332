"""Open the Feast feature store that the settings describe, and register its definitions."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import yaml
from feast import FeatureStore, RepoConfig

from powerhall.settings import Settings

FEATURE_REPO = Path(__file__).resolve().parent / "feature_repo"


def feature_store_yaml(settings: Settings) -> Path:
    """One `feature_store*.yaml` per environment, as Feast's repos keep them."""
    name = (
        "feature_store.yaml"
        if settings.feature_store == "embedded"
        else "feature_store.production.yaml"
    )
    return FEATURE_REPO / name


def repo_config(settings: Settings) -> RepoConfig:
    """The chosen `feature_store*.yaml`, with locations taken from the settings.

    The YAML gives the kinds of store; the settings say where they are, so that tests and
    deployments point the same definitions elsewhere without editing a file. Feast itself
    resolves relative source paths against the repo path, which is the data directory.
    """
    raw: dict[str, Any] = yaml.safe_load(
        os.path.expandvars(feature_store_yaml(settings).read_text())
    )
    raw["project"] = settings.feast_project
    online = raw["online_store"]
    if online["type"] == "sqlite":
        online["path"] = str((settings.feast_dir / "online_store.db").resolve())
    elif online["type"] == "redis":
        online["connection_string"] = settings.redis_connection
    if isinstance(raw["registry"], str):
        raw["registry"] = str((settings.feast_dir / "registry.db").resolve())
    else:
        raw["registry"]["path"] = settings.feast_registry_url
    config = RepoConfig(**raw)
    config.repo_path = settings.data_dir.resolve()
    return config


def open_store(settings: Settings) -> FeatureStore:
    settings.feast_dir.mkdir(parents=True, exist_ok=True)
    return FeatureStore(repo_path=str(settings.data_dir.resolve()), config=repo_config(settings))


def apply_definitions(store: FeatureStore) -> None:
    """Register every definition of `features.feature_repo` (like `feast apply`)."""
    from features.feature_repo import DEFINITIONS

    with warnings.catch_warnings():
        # Feast warns on every apply that on-demand views are "experimental" for offline
        # retrieval; ours is used online only, and the warning would drown the CLI output.
        warnings.filterwarnings("ignore", message="On demand feature view is an experimental")
        store.apply(list(DEFINITIONS))
