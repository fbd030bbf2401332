"""`powerhall push dispatch` as the operator runs it: killed with SIGKILL mid-batch and
restarted, every push still reaches the gateway, once in effect; SIGTERM ends it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from serving.push.tables import OutboxMessage, OutboxStatus
from tests.serving.push.factories import queue_pushes
from tests.serving.push.gateway import Gateway, running

POWERHALL = str(Path(sys.executable).with_name("powerhall"))
STARTUP_SECONDS = 180
"""The CLI imports the whole stack; on a loaded machine that takes a while."""


def _start(db_url: str, gateway_url: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "POWERHALL_DATA_DIR": str(tmp_path / "data"),
        "POWERHALL_DATABASE_URL": db_url,
        "POWERHALL_PUSH_WEBHOOK_URL": gateway_url,
        "POWERHALL_PUSH_LEASE_SECONDS": "2",
        "POWERHALL_PUSH_BACKOFF_BASE_SECONDS": "0.05",
        "POWERHALL_PUSH_BACKOFF_CAP_SECONDS": "0.2",
        "POWERHALL_PUSH_CONCURRENCY": "2",
    }
    command = [POWERHALL, "push", "dispatch", "--batch", "5", "--poll-seconds", "0.1"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting {seconds:.0f} s for {what}")
        time.sleep(0.05)


def _count(sessions: sessionmaker[Session], status: OutboxStatus) -> int:
    with sessions() as session:
        query = select(func.count()).where(OutboxMessage.status == status)
        return int(session.scalar(query) or 0)


@pytest.mark.slow
def test_a_killed_dispatcher_loses_no_push_and_repeats_none_in_effect(
    db_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with sessions() as session:
        keys = queue_pushes(session, 40)
    # The 12th push is applied by the gateway, whose answer then hangs: the dispatcher is
    # killed in the middle of that batch, before it can record the delivery.
    gateway = Gateway(fail_first=1, delay_seconds=0.01, hang_on=12)
    with running(gateway):
        first = _start(db_url, gateway.url, tmp_path)
        try:
            _wait_for(gateway.hanging.is_set, STARTUP_SECONDS, "the dispatcher to deliver")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(30)
        assert first.returncode == -signal.SIGKILL
        assert _count(sessions, OutboxStatus.SENDING) > 0  # claimed, never settled
        assert _count(sessions, OutboxStatus.DELIVERED) < len(keys)
        gateway.release.set()

        second = _start(db_url, gateway.url, tmp_path)
        try:
            _wait_for(
                lambda: _count(sessions, OutboxStatus.DELIVERED) == len(keys),
                STARTUP_SECONDS,
                "every push to be delivered",
            )
        finally:
            second.send_signal(signal.SIGTERM)
            output, _ = second.communicate(timeout=60)
    assert second.returncode == 0, output.decode()
    assert "SIGTERM" in output.decode()
    assert set(gateway.applied) == set(keys)  # none lost, each applied once
    # The push applied before the kill was sent again, and dropped by its key.
    assert gateway.hung_key is not None and gateway.repeats[gateway.hung_key] >= 1
    assert all(gateway.requests[key] >= 2 for key in keys)  # each failed once first
