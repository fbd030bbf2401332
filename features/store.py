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
REQUEST_RETRIES = 1
"""Retries of one Redis command in the service: enough to re-open a connection that a
Redis restart dropped, without multiplying the wait on a Redis that does not answer."""


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


def bound_request_waits(store: FeatureStore, timeout_seconds: float) -> None:
    """Make a Redis online store give up after `timeout_seconds` per connect or command,
    retried once without backoff, then raise (the service then answers degraded).

    Feast's client keeps redis-py's defaults: 5 s per socket operation and 10 retries with
    backoff, so a stopped Redis held each request for about a minute and a dead one for
    3 s. Only for the service's reads and event pushes: a socket timeout also bounds the
    whole send of a bulk pipeline, which `materialize` must not be cut by. The client is
    created here without connecting; a Redis Cluster or Sentinel client connects when it
    is created, so those take their timeouts from the connection string
    (`socket_timeout=…,socket_connect_timeout=…`) and are left as they are.
    """
    config = store.config.online_store
    if config.type != "redis":
        return
    # Imported here: the embedded default runs without the `redis` extra.
    from feast.infra.online_stores.redis import RedisOnlineStore, RedisType
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    online = store._get_provider().online_store
    if not isinstance(online, RedisOnlineStore) or config.redis_type != RedisType.redis:
        return
    client = online._get_client(config)
    client.connection_pool.connection_kwargs.update(
        socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds
    )
    client.set_retry(Retry(NoBackoff(), REQUEST_RETRIES))


def apply_definitions(store: FeatureStore) -> None:
    """Register every definition of `features.feature_repo` (like `feast apply`)."""
    from features.feature_repo import DEFINITIONS

    with warnings.catch_warnings():
        # Feast warns on every apply that on-demand views are "experimental" for offline
        # retrieval; ours is used online only, and the warning would drown the CLI output.
        warnings.filterwarnings("ignore", message="On demand feature view is an experimental")
        store.apply(list(DEFINITIONS))
