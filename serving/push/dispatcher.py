"""The dispatcher: delivers the outbox's pushes to the app push gateway.

Each batch is claimed (committed) before any delivery starts and settled in one
transaction after the last one ends, so no transaction stays open across the network.
A push is POSTed as JSON with its `Idempotency-Key`; a 2xx delivers it; a timeout, a
connection error, 408, 429 or a 5xx is retried after an exponential backoff (tenacity's
`wait_exponential`: base, 2·base, 4·base… capped, or the gateway's `Retry-After` when
longer) until `push_max_attempts`; any other answer is final and the push goes to the
dead letters at once. Delivery is at least once; the gateway's idempotency key makes it
exactly once in effect (a push delivered by a dispatcher killed before it settled the
batch is sent again when its lease runs out).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from tenacity import RetryCallState, Retrying, wait_exponential

from powerhall.errors import InvalidRequestError
from powerhall.settings import Settings
from serving.push.outbox import Claimed, bury, claim, mark_delivered, schedule_retry

logger = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
RETRYABLE_STATUS = frozenset({408, 429})
"""Client errors that say "later", not "never"; every 5xx is retried too."""


class Fate(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    DEAD = "dead"


@dataclass(frozen=True)
class Delivery:
    """What one POST to the gateway came to."""

    fate: Fate
    error: str | None = None
    retry_after: float | None = None
    """Seconds the gateway asked to wait (`Retry-After`), if it said."""


@dataclass
class BatchReport:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    lost: int = 0
    """Settled by another dispatcher: this one's lease ran out before the batch ended."""

    def add(self, other: BatchReport) -> None:
        self.claimed += other.claimed
        self.delivered += other.delivered
        self.retried += other.retried
        self.dead += other.dead
        self.lost += other.lost


def backoff_seconds(attempts: int, *, base: float, cap: float) -> float:
    """Wait after the `attempts`-th failed delivery: base·2^(attempts-1), at most `cap`."""
    state = RetryCallState(retry_object=Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempts
    return float(wait_exponential(multiplier=base, max=cap)(state))


def request_body(message: Claimed) -> dict[str, Any]:
    """What the gateway receives: who, which suggestion, the text, where a tap leads."""
    payload = message.payload
    return {
        "customer_id": message.customer_id,
        "suggestion_id": message.suggestion_id,
        "campaign_id": message.campaign_id,
        "kind": payload["kind"],
        "title": payload["title"],
        "message": payload["message"],
        "deep_link": payload["deep_link"],
    }


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def deliver(client: httpx.Client, url: str, message: Claimed) -> Delivery:
    """POST one push; never raises for what the network or the gateway does."""
    try:
        response = client.post(
            url,
            json=request_body(message),
            headers={IDEMPOTENCY_HEADER: message.idempotency_key},
        )
    except httpx.HTTPError as exc:  # timeouts, refused connections, broken responses
        return Delivery(Fate.RETRY, f"{type(exc).__name__}: {exc}")
    if response.is_success:
        return Delivery(Fate.DELIVERED)
    error = f"HTTP {response.status_code}: {response.text[:200]}"
    if response.status_code in RETRYABLE_STATUS or response.status_code >= 500:
        return Delivery(Fate.RETRY, error, _retry_after(response))
    return Delivery(Fate.DEAD, error)


def worker_name() -> str:
    """Host, process and a random suffix: two dispatchers never share a claim."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    """Claims, delivers and settles pushes; one instance per process, reused batch after
    batch (its HTTP connections and threads are kept)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], datetime] = _utc_now,
        worker: str | None = None,
    ) -> None:
        if not settings.push_webhook_url:
            raise InvalidRequestError(
                "no push gateway: set POWERHALL_PUSH_WEBHOOK_URL to its HTTP endpoint"
            )
        self.sessions = sessions
        self.settings = settings
        self.url = settings.push_webhook_url
        self.clock = clock
        self.worker = worker or worker_name()
        self.client = client or httpx.Client(
            timeout=settings.push_timeout_seconds,
            limits=httpx.Limits(max_connections=settings.push_concurrency),
        )
        self._pool = ThreadPoolExecutor(
            max_workers=settings.push_concurrency, thread_name_prefix="push"
        )

    def close(self) -> None:
        self._pool.shutdown()
        self.client.close()

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def run_batch(self, limit: int) -> BatchReport:
        """Claim up to `limit` due pushes, deliver them concurrently, settle them."""
        lease = timedelta(seconds=self.settings.push_lease_seconds)
        with self.sessions() as session:
            messages = claim(
                session, worker=self.worker, limit=limit, now=self.clock(), lease=lease
            )
        if not messages:
            return BatchReport()
        deliveries = list(self._pool.map(lambda m: deliver(self.client, self.url, m), messages))
        report = BatchReport(claimed=len(messages))
        delivered = [
            m.id for m, d in zip(messages, deliveries, strict=True) if d.fate is Fate.DELIVERED
        ]
        with self.sessions() as session, session.begin():
            report.delivered = mark_delivered(
                session, message_ids=delivered, worker=self.worker, now=self.clock()
            )
            report.lost = len(delivered) - report.delivered
            for message, delivery in zip(messages, deliveries, strict=True):
                if delivery.fate is not Fate.DELIVERED:
                    self._settle_failure(session, message, delivery, report)
        return report

    def _settle_failure(
        self, session: Session, message: Claimed, delivery: Delivery, report: BatchReport
    ) -> None:
        """Retry after the backoff, or bury: at the retry limit, or when the answer is final."""
        now = self.clock()
        error = delivery.error or ""
        if delivery.fate is Fate.RETRY and message.attempts < self.settings.push_max_attempts:
            wait = backoff_seconds(
                message.attempts,
                base=self.settings.push_backoff_base_seconds,
                cap=self.settings.push_backoff_cap_seconds,
            )
            wait = max(wait, delivery.retry_after or 0.0)
            at = now + timedelta(seconds=wait)
            if schedule_retry(
                session, message_id=message.id, worker=self.worker, at=at, error=error
            ):
                report.retried += 1
            else:
                report.lost += 1
        elif bury(session, message_id=message.id, worker=self.worker, now=now, error=error):
            logger.warning(
                "push %s dead after %s attempts: %s", message.id, message.attempts, error
            )
            report.dead += 1
        else:
            report.lost += 1

    def drain(self, limit: int, stop: threading.Event | None = None) -> BatchReport:
        """Batches until nothing is due (retries scheduled later are left for later)."""
        total = BatchReport()
        while not (stop and stop.is_set()):
            report = self.run_batch(limit)
            total.add(report)
            if report.claimed == 0:
                break
        return total

    def run_forever(
        self,
        limit: int,
        poll_seconds: float,
        stop: threading.Event,
        on_batch: Callable[[BatchReport], None] | None = None,
    ) -> BatchReport:
        """Deliver until `stop` is set; the batch in flight then finishes and is settled.

        A database that stops answering does not end the worker: it waits and tries again
        (pushes it had claimed go to whoever claims them after their lease)."""
        total = BatchReport()
        while not stop.is_set():
            try:
                report = self.run_batch(limit)
            except OperationalError as exc:
                logger.warning("outbox unreachable, retrying in %s s: %s", poll_seconds, exc)
                stop.wait(poll_seconds)
                continue
            total.add(report)
            if report.claimed:
                if on_batch:
                    on_batch(report)
                continue
            stop.wait(poll_seconds)
        return total
