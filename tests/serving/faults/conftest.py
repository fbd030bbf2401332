"""What the fault tests break: a private Redis server they kill and restart, a PostgreSQL
database whose connections they terminate, a model registry whose artifacts they delete.

Each is private to one test, so that breaking it never touches the shared services.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow import MlflowClient
from sqlalchemy import text

from features.materialize import materialize
from features.store import apply_definitions, open_store
from powerhall.settings import Settings
from serving.db.engine import make_engine, session_factory
from serving.db.migrate import upgrade
from serving.directory import sync_customers
from tests.serving.conftest import Keys, create_keys
from tests.serving.databases import fresh_database

REDIS_SERVER = Path("/usr/bin/redis-server")
START_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class RedisServer:
    """`redis-server` on one port, without persistence: killed, it comes back empty."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def connection(self) -> str:
        """The Feast connection string of this server."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [str(REDIS_SERVER), "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _listening(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL: connections drop, the data is gone."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def pause(self) -> None:
        """SIGSTOP: the port stays open but nothing answers (a hung server)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self._process is not None:
            self.resume()
            self.kill()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if not os.access(REDIS_SERVER, os.X_OK):
        reason = f"{REDIS_SERVER} is not installed"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}, and CI=true requires it", pytrace=False)
        pytest.skip(reason)
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def load_online_store(settings: Settings) -> None:
    """Register the definitions and materialize every customer's profile (as after a
    Redis restart, the whole store is written again)."""
    store = open_store(settings)
    apply_definitions(store)
    materialize(store, settings, full=True)


@pytest.fixture
def redis_settings(settings: Settings, redis_server: RedisServer, tmp_path: Path) -> Settings:
    """The private data served from the private Redis (production mode: SQL registry,
    here a SQLite file), its profiles materialized; requests wait at most 0.5 s on it."""
    production = settings.model_copy(
        update={
            "feature_store": "production",
            "feast_registry_url": f"sqlite:///{tmp_path / 'feast-registry.db'}",
            "redis_connection": redis_server.connection,
            "online_store_timeout_seconds": 0.5,
        }
    )
    load_online_store(production)
    return production


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def postgres_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, settings: Settings
) -> Iterator[Settings]:
    """The private data with its service state in a PostgreSQL schema of its own, migrated
    and synced; its connections carry an application_name, so that a test can find and
    terminate exactly them."""
    with fresh_database(request, tmp_path_factory) as (url, _):
        url = f"{url}&application_name=powerhall_faults_{uuid.uuid4().hex[:10]}"
        upgrade(url)
        engine = make_engine(url)
        with session_factory(engine)() as session:
            sync_customers(session, settings.lake_dir)
        engine.dispose()
        yield settings.model_copy(update={"database_url": url})


@pytest.fixture
def postgres_keys(postgres_settings: Settings) -> Keys:
    return create_keys(postgres_settings.database_url)


def terminate_backends(postgres_url: str, application_name: str) -> int:
    """Terminate every server process of `application_name`, waiting until each is gone
    (as a failover or an administrator would); returns how many there were."""
    admin = make_engine(postgres_url)
    try:
        with admin.begin() as connection:
            return int(
                connection.execute(
                    text(
                        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) "
                        "FROM pg_stat_activity WHERE application_name = :name"
                    ),
                    {"name": application_name},
                ).scalar_one()
            )
    finally:
        admin.dispose()


@pytest.fixture
def model_registry(tracking_uri: str, tmp_path: Path) -> str:
    """A private, empty MLflow registry: a copy of the session's (MLflow builds its schema
    in about 10 s here, a copy takes milliseconds); artifacts go beside it."""
    MlflowClient(tracking_uri, registry_uri=tracking_uri).search_registered_models()  # schema
    source = Path(tracking_uri.removeprefix("sqlite:///"))
    target = tmp_path / "mlflow" / "mlflow.db"
    target.parent.mkdir()
    shutil.copyfile(source, target)
    return f"sqlite:///{target}"
