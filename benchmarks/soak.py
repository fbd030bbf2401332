"""Soak: minutes of mixed traffic against the app served by uvicorn; no request may fail,
latency per route, and the server's resident memory from start to end.

    .venv/bin/python benchmarks/soak.py [--minutes 5] [--concurrency 64] [--data DIR]

`--concurrency` clients (asyncio + one shared httpx `AsyncClient`, on loopback) each loop
over the service's day: counter sessions (`POST /v1/halls/{hall}/counters/{counter}/
sessions` with a counter key of the customer's hall), counter suggestions for customers
identified there, app suggestions, feedback on suggestions shown (a new Idempotency-Key,
or now and then a replay of one already sent, as a client retrying), and real-time
events (outages and complaints with an admin key, app logins with an app key; an event
newer than the batch scores makes the champions score the profile online).

The server is one uvicorn process (1 worker, as `bench_api.py` starts it) on the data of
`--data DIR` (its feature store copied: the soak's events write to it), or of a world
built in a temporary folder the way `make pipeline models` builds one (`--customers` x
`--days`), with a fresh SQLite service database. After a
warm-up (first-request costs are not growth), its resident memory (psutil when installed,
else /proc) is read every few seconds until the end: the goal is less than 10 % growth.
Any failed request (non-2xx, a socket error) fails the soak. The figures are measured on a
machine shared with other work: a latency is only comparable within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
from bench_api import (
    NO_RATE_LIMIT,
    REPO_ROOT,
    Target,
    build_world,
    prepare_database,
    uvicorn_server,
)

from results import Row, record

GOAL_GROWTH = 0.10
"""Largest growth of the server's resident memory from the end of the warm-up to the end."""
COUNTERS_PER_HALL = 4
OUTCOMES = ("accepted", "declined", "dismissed", "clicked")
REPLAY_SHARE = 0.15
"""Share of feedback that repeats one already sent (same key, same body): a client retry."""
REMEMBERED = 2_000
"""Identifications, suggestions shown and feedback sent that the clients keep to reuse."""
MAX_AGE_S = 20 * 60
"""Older ones are forgotten: a counter key may only see and answer for customers its hall
identified in the last 30 minutes (`POWERHALL_COUNTER_SESSION_MINUTES`)."""
ERROR_SAMPLES = 5
KEEPALIVE_S = 2.0
"""How long a client keeps an idle connection: shorter than uvicorn's keep-alive timeout
(5 s), else a connection the server is closing can be picked for the next request (httpx
also expires at 5 s), and that request fails with a reset the service never saw."""


@dataclass(frozen=True)
class Shown:
    suggestion_id: str
    key: str
    """The key that was shown the suggestion (a counter key may only answer for its hall)."""
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Identified:
    customer_id: str
    hall: str
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Sent:
    """Feedback sent, to replay as a client retrying it would: same key, same body."""

    shown: Shown
    idempotency_key: str
    outcome: str
    at: float = field(default_factory=time.monotonic)


Remembered = TypeVar("Remembered", Identified, Shown, Sent)


def _recent(remembered: deque[Remembered]) -> deque[Remembered]:
    """`remembered` without what is older than `MAX_AGE_S` (oldest first, as appended)."""
    while remembered and time.monotonic() - remembered[0].at > MAX_AGE_S:
        remembered.popleft()
    return remembered


@dataclass
class Soak:
    """The clients' shared state and what they measured."""

    url: str
    customers: list[tuple[str, str]]
    """(customer id, hall id) of every customer in the directory."""
    admin_key: str
    app_key: str
    counter_keys: dict[str, str]
    """Hall -> a counter key of that hall."""
    rng: random.Random = field(default_factory=lambda: random.Random(11))
    identified: deque[Identified] = field(default_factory=lambda: deque(maxlen=REMEMBERED))
    shown: deque[Shown] = field(default_factory=lambda: deque(maxlen=REMEMBERED))
    sent: deque[Sent] = field(default_factory=lambda: deque(maxlen=REMEMBERED))
    measuring: bool = False
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)

    async def call(
        self,
        client: httpx.AsyncClient,
        route: str,
        method: str,
        path: str,
        key: str,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """One request, timed under `route`; its JSON body, or None when it failed."""
        started = time.perf_counter()
        try:
            response = await client.request(
                method, path, json=json, headers={"X-API-Key": key} | (headers or {})
            )
            failure = None if response.is_success else f"{response.status_code} {response.text}"
        except httpx.TransportError as exc:  # the message is often empty: name the cause
            failure = f"{type(exc).__name__}: {exc} ({exc.__cause__!r})"
        elapsed = time.perf_counter() - started
        if self.measuring:
            self.latencies.setdefault(route, []).append(elapsed)
            if failure is not None:
                self.errors[route] += 1
                if len(self.samples) < ERROR_SAMPLES:
                    self.samples.append(f"{route}: {failure[:300]}")
        return None if failure is not None else response.json()

    def _remember(self, suggestions: list[dict[str, Any]], key: str) -> None:
        self.shown.extend(Shown(s["suggestion_id"], key) for s in suggestions)

    async def counter_session(self, client: httpx.AsyncClient) -> None:
        customer_id, hall = self.rng.choice(self.customers)
        counter = self.rng.randint(1, COUNTERS_PER_HALL)
        key = self.counter_keys[hall]
        body = await self.call(
            client,
            "POST counter session",
            "POST",
            f"/v1/halls/{hall}/counters/{counter}/sessions",
            key,
            json={"customer_id": customer_id, "staff_id": f"S{counter:02d}"},
        )
        if body is not None:
            self.identified.append(Identified(customer_id, hall))
            self._remember(body["answer"]["suggestions"], key)

    async def counter_suggestions(self, client: httpx.AsyncClient) -> None:
        if not _recent(self.identified):
            await self.counter_session(client)
            return
        identified = self.rng.choice(self.identified)
        key = self.counter_keys[identified.hall]
        body = await self.call(
            client,
            "GET suggestions counter",
            "GET",
            f"/v1/customers/{identified.customer_id}/suggestions?channel=counter&limit=3",
            key,
        )
        if body is not None:
            self._remember(body["suggestions"], key)

    async def app_suggestions(self, client: httpx.AsyncClient) -> None:
        customer_id, _ = self.rng.choice(self.customers)
        body = await self.call(
            client,
            "GET suggestions app",
            "GET",
            f"/v1/customers/{customer_id}/suggestions?channel=app&limit=3",
            self.app_key,
        )
        if body is not None:
            self._remember(body["suggestions"], self.app_key)

    async def feedback(self, client: httpx.AsyncClient) -> None:
        replay = bool(_recent(self.sent)) and self.rng.random() < REPLAY_SHARE
        if replay:
            sent = self.rng.choice(self.sent)
        elif _recent(self.shown):
            sent = Sent(self.rng.choice(self.shown), str(uuid.uuid4()), self.rng.choice(OUTCOMES))
        else:
            await self.app_suggestions(client)
            return
        body = await self.call(
            client,
            "POST feedback",
            "POST",
            f"/v1/suggestions/{sent.shown.suggestion_id}/feedback",
            sent.shown.key,
            json={"outcome": sent.outcome},
            headers={"Idempotency-Key": sent.idempotency_key},
        )
        if body is not None and not replay:
            self.sent.append(sent)

    async def event(self, client: httpx.AsyncClient) -> None:
        customer_id, _ = self.rng.choice(self.customers)
        kind = self.rng.choice(("app_login", "outage", "complaint"))
        await self.call(
            client,
            "POST event",
            "POST",
            "/v1/events",
            self.app_key if kind == "app_login" else self.admin_key,
            json={
                "event_id": f"soak-{uuid.uuid4()}",
                "customer_id": customer_id,
                "kind": kind,
                "ts": datetime.now(UTC).isoformat(),
            },
        )


MIX: tuple[tuple[str, float], ...] = (
    ("app_suggestions", 0.30),
    ("counter_suggestions", 0.25),
    ("feedback", 0.20),
    ("counter_session", 0.15),
    ("event", 0.10),
)
"""What a client does next, and how often: the counters and the app of a working day."""


def rss_bytes(pid: int) -> int:
    """Resident memory of `pid`: psutil when installed, else /proc/<pid>/status."""
    try:
        import psutil
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no VmRSS for process {pid}") from None
    return int(psutil.Process(pid).memory_info().rss)


def _children() -> list[tuple[int, str]]:
    """(pid, command line) of this process's children: psutil, else /proc."""
    try:
        import psutil
    except ImportError:
        found = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                parent = next(
                    line.split()[1]
                    for line in status.read_text().splitlines()
                    if line.startswith("PPid:")
                )
                command = (status.parent / "cmdline").read_bytes().replace(b"\0", b" ")
            except (OSError, StopIteration):  # the process ended while being read
                continue
            if parent == str(os.getpid()):
                found.append((int(status.parent.name), command.decode(errors="replace")))
        return found
    return [(child.pid, " ".join(child.cmdline())) for child in psutil.Process().children()]


def server_pid() -> int:
    """The process `bench_api.uvicorn_server` started: this process's child running uvicorn
    (with one worker, uvicorn serves in that process itself)."""
    for pid, command in _children():
        if "uvicorn" in command:
            return pid
    raise SystemExit("the uvicorn server process was not found among this process's children")


async def _drive(soak: Soak, concurrency: int, seconds: float) -> float:
    """`concurrency` clients looping over the mix for `seconds`; returns the elapsed time."""
    actions: list[Callable[[httpx.AsyncClient], Awaitable[None]]] = [
        getattr(soak, name) for name, _ in MIX
    ]
    weights = [weight for _, weight in MIX]
    limits = httpx.Limits(
        max_connections=concurrency,
        max_keepalive_connections=concurrency,
        keepalive_expiry=KEEPALIVE_S,
    )
    async with httpx.AsyncClient(base_url=soak.url, limits=limits, timeout=30.0) as client:
        started = time.perf_counter()
        deadline = started + seconds

        async def client_loop() -> None:
            while time.perf_counter() < deadline:
                await soak.rng.choices(actions, weights)[0](client)

        await asyncio.gather(*(client_loop() for _ in range(concurrency)))
        return time.perf_counter() - started


async def _sample_memory(pid: int, every: float, samples: list[tuple[float, int]]) -> None:
    started = time.perf_counter()
    while True:
        samples.append((time.perf_counter() - started, rss_bytes(pid)))
        await asyncio.sleep(every)


async def soak_run(
    soak: Soak, pid: int, concurrency: int, warmup: float, seconds: float, every: float
) -> tuple[float, list[tuple[float, int]]]:
    """Warm up (not measured), then measure for `seconds` while sampling memory."""
    await _drive(soak, concurrency, warmup)
    soak.measuring = True
    memory: list[tuple[float, int]] = []
    sampler = asyncio.create_task(_sample_memory(pid, every, memory))
    try:
        elapsed = await _drive(soak, concurrency, seconds)
    finally:
        sampler.cancel()
    memory.append((elapsed, rss_bytes(pid)))
    return elapsed, memory


def working_copy(data: Path, work: Path) -> Path:
    """A data directory for the soak that shares `data`'s lake and offline tables (links)
    but has its own copy of the feature store: the soak's events write to the online
    store, and a soak must not change the data it serves."""
    copy = work / "data"
    copy.mkdir()
    for entry in data.iterdir():
        if entry.name == "feast":
            shutil.copytree(entry, copy / entry.name)
        else:
            (copy / entry.name).symlink_to(entry)
    return copy


def prepare(data: Path, database_url: str) -> tuple[Target, list[tuple[str, str]], dict[str, str]]:
    """The service database (`bench_api.prepare_database`: directory, admin and app keys),
    plus each customer's hall and a counter key per hall."""
    from sqlalchemy import select

    from serving.auth import Role, create_key
    from serving.db.engine import make_engine, session_factory
    from serving.db.tables import Customer

    target = prepare_database(data, database_url)
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    try:
        with session_factory(engine)() as session:
            customers = [
                (row.customer_id, row.hall_id)
                for row in session.execute(select(Customer.customer_id, Customer.hall_id))
            ]
            counter_keys = {
                hall: create_key(
                    session, role=Role.COUNTER, name=f"soak-{hall}", hall_id=hall, now=now
                )[1]
                for hall in sorted({hall for _, hall in customers})
            }
    finally:
        engine.dispose()
    return target, customers, counter_keys


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="measured traffic")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--warmup-seconds", type=float, default=30.0)
    parser.add_argument("--sample-seconds", type=float, default=5.0, help="memory sampling")
    parser.add_argument("--data", type=Path, help="serve this data directory (else build one)")
    parser.add_argument("--tracking-uri", help="MLflow registry of --data's champions")
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        work = Path(tmp)
        if args.data is not None:
            if not (args.data / "lake").is_dir():
                raise SystemExit(f"--data {args.data}: no lake/ in it (run make pipeline models)")
            data = working_copy(args.data.resolve(), work)
            tracking_uri = (
                args.tracking_uri
                or os.environ.get("MLFLOW_TRACKING_URI")
                or (f"sqlite:///{REPO_ROOT / 'mlruns' / 'mlflow.db'}")
            )
        else:
            data = work / "data"
            tracking_uri = f"sqlite:///{work / 'mlflow.db'}"
            print(f"building {args.customers:,} customers x {args.days} days in {data}")
            build_world(data, args.customers, args.days, args.seed, tracking_uri)
        database_url = f"sqlite:///{work / 'service.db'}"
        target, customers, counter_keys = prepare(data, database_url)
        env = os.environ | {
            "POWERHALL_DATA_DIR": str(data),
            "POWERHALL_DATABASE_URL": database_url,
            "POWERHALL_RATE_LIMIT_PER_MINUTE": str(NO_RATE_LIMIT),
            "MLFLOW_TRACKING_URI": tracking_uri,
        }
        with uvicorn_server("serving.main:create_app", env, work / "server.log") as url:
            pid = server_pid()
            soak = Soak(
                url=url,
                customers=customers,
                admin_key=target.keys["counter"],  # bench_api's admin key
                app_key=target.keys["app"],
                counter_keys=counter_keys,
            )
            print(
                f"soak: {args.concurrency} clients, {len(customers):,} customers in "
                f"{len(counter_keys)} halls; {args.warmup_seconds:.0f} s warm-up, then "
                f"{args.minutes:g} min measured (server pid {pid})"
            )
            elapsed, memory = asyncio.run(
                soak_run(
                    soak,
                    pid,
                    args.concurrency,
                    args.warmup_seconds,
                    args.minutes * 60,
                    args.sample_seconds,
                )
            )
        server_log = (work / "server.log").read_text()

    requests = sum(len(v) for v in soak.latencies.values())
    errors = sum(soak.errors.values())
    print(
        f"\n{requests:,} requests in {elapsed:.0f} s ({requests / elapsed:,.0f}/s) at "
        f"{args.concurrency} concurrent; the machine is shared, so latencies are this run's"
    )
    print(f"{'route':<26}{'requests':>10}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}")
    rows = []
    for route in sorted(soak.latencies):
        latencies = soak.latencies[route]
        p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
        print(f"{route:<26}{len(latencies):>10,}{soak.errors[route]:>8}{p50:>9.1f}{p99:>9.1f}")
        rows += [Row(f"{route} p50", p50, "ms"), Row(f"{route} p99", p99, "ms")]
    start, end = memory[0][1], memory[-1][1]
    peak = max(rss for _, rss in memory)
    growth = end / start - 1
    print(
        f"server RSS: {start / 2**20:,.1f} MiB after the warm-up, {end / 2**20:,.1f} MiB at "
        f"the end (peak {peak / 2**20:,.1f} MiB): {growth:+.1%} (goal < {GOAL_GROWTH:.0%})"
    )
    by_minute = [next(rss for t, rss in memory if t >= m * 60) for m in range(int(elapsed // 60))]
    print(
        "RSS at each minute (MiB): " + ", ".join(f"{rss / 2**20:.1f}" for rss in [*by_minute, end])
    )
    print(f"errors: {errors}" + (" (zero-error check passed)" if not errors else ""))
    for sample in soak.samples:
        print(f"  {sample}")
    if errors or "Traceback" in server_log:
        print("the server's log ends with:\n" + server_log[-3000:])
    rows += [
        Row("requests", requests / elapsed, "requests/s"),
        Row("failed requests", errors, "requests", goal="0", met=errors == 0),
        Row(
            "server RSS growth",
            growth * 100,
            "%",
            goal=f"< {GOAL_GROWTH:.0%}",
            met=growth < GOAL_GROWTH,
        ),
    ]
    record(
        "soak",
        rows,
        parameters=vars(args) | {"data": str(args.data) if args.data else None},
        series={"rss_mib": [{"seconds": t, "rss_mib": rss / 2**20} for t, rss in memory]},
    )
    if errors or growth >= GOAL_GROWTH:
        raise SystemExit("soak failed: " + ("requests failed" if errors else "memory grew"))


if __name__ == "__main__":
    main()
