"""The suggestions API under load, against a bare FastAPI endpoint on the same server.

    .venv/bin/python benchmarks/bench_api.py [--data DIR] [--seconds 15] [--connections 64]

Two uvicorn processes with the same settings (1 worker, `--no-access-log`, uvicorn's
default loop and HTTP parser) serve (a) our app, `serving.main:create_app`, and (b) a bare
FastAPI app whose one endpoint, on the same path, returns a constant JSON of the same
byte size as one of our answers. The same load generator drives both for a fixed
duration: `wrk` when installed (one thread; it leaves the cores to the servers), else an
asyncio client of plain HTTP/1.1 keep-alive connections. Every request asks for a customer
drawn at random from the directory, on a channel drawn at random (counter with an admin
key, app with an app key); every answer is recorded as shown and audited, as in service.

Goals (issue 8): at 64 connections, at least 0.5x the bare endpoint's requests/s, and a
p99 within 20 ms. A saturated server with 64 requests in flight answers each after
64 / throughput seconds on average (Little's law): 20 ms at 64 connections needs 3,200
requests/s, about all the bare endpoint itself serves on two cores (its own p99 there is
above 20 ms), so the p99 is also measured at light load (`--light-connections`, one by
default), where it is the service's own latency, not a queue's. Rounds alternate between
the two servers so that a burst of other work on a shared machine hits both; the medians
of the rounds are reported.

Data: `--data DIR` serves an existing data directory (e.g. `data/` after `make run`, with
`--tracking-uri` if its champions are elsewhere); without it the benchmark builds one in a
temporary folder with the commands of `make pipeline models` (2,000 customers x 730 days
by default: the models need two years to train; about 9 minutes on two busy cores).
Either way the service's database is a fresh SQLite file in a temporary folder (migrated,
directory synced, one admin and one app key), so that a benchmark never adds shown
suggestions to a real database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from results import Row, record

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
POWERHALL = Path(sys.executable).with_name("powerhall")
BARE_JSON_ENV = "POWERHALL_BENCH_BARE_JSON"
"""The file holding the bare endpoint's constant answer (read by `bare_app`)."""
PATH = "/v1/customers/{customer_id}/suggestions?channel={channel}&limit=3"
CHANNELS = ("counter", "app")
GOAL_RATIO = 0.5
GOAL_P99_MS = 20.0
START_TIMEOUT_S = 180.0
WARMUP_S = 3.0
SETTLE_S = 2.0
NO_RATE_LIMIT = 10**9
"""The benchmark's keys make thousands of requests a minute: the limiter still runs on
every request, it just never refuses one."""


def bare_app() -> Any:
    """The reference: one FastAPI endpoint on our path returning a constant JSON document
    (uvicorn factory: `bench_api:bare_app --factory --app-dir benchmarks`)."""
    from fastapi import FastAPI

    answer = json.loads(Path(os.environ[BARE_JSON_ENV]).read_text())
    app = FastAPI()

    @app.get("/v1/customers/{customer_id}/suggestions")
    async def suggestions(customer_id: str) -> dict[str, Any]:
        return answer

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


@dataclass(frozen=True)
class Load:
    """One generator run: completed requests, failures (non-2xx, socket errors), latency."""

    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return (self.requests - self.errors) / self.seconds


@dataclass(frozen=True)
class Target:
    """What the generator asks: customer ids, and the key used on each channel."""

    customer_ids: list[str]
    keys: dict[str, str]


def build_world(data: Path, customers: int, days: int, seed: int, tracking_uri: str) -> None:
    """`make pipeline models` into `data`: lake, profiles, online store, champions, scores."""
    env = os.environ | {"POWERHALL_DATA_DIR": str(data), "MLFLOW_TRACKING_URI": tracking_uri}
    steps = [
        [
            "generate",
            "--customers",
            str(customers),
            "--days",
            str(days),
            "--seed",
            str(seed),
            "--out",
            str(data / "raw"),
        ],
        [
            "ingest",
            str(data / "raw"),
            "--into",
            str(data / "lake"),
            "--quarantine",
            str(data / "quarantine"),
        ],
        ["features", "build"],
        ["features", "materialize"],
        ["train", "all"],
        ["score"],
        ["features", "materialize", "--view", "scores"],
    ]
    for step in steps:
        started = time.perf_counter()
        done = subprocess.run(
            [str(POWERHALL), *step], env=env, cwd=REPO_ROOT, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"powerhall {' '.join(step)} failed:\n{done.stdout}{done.stderr}")
        command = " ".join(word for word in step[:2] if word.isalpha())
        print(f"  powerhall {command}: {time.perf_counter() - started:.0f} s")


def prepare_database(data: Path, url: str) -> Target:
    """A fresh service database for `data`'s lake, an admin and an app key.

    The service is imported here, not at the top: the bare server imports this module
    (`bare_app`) and must load nothing but FastAPI."""
    from sqlalchemy import select

    from powerhall.settings import Settings
    from serving.auth import Role, create_key
    from serving.db.engine import make_engine, session_factory
    from serving.db.migrate import upgrade
    from serving.db.tables import Customer
    from serving.directory import sync_customers

    settings = Settings(data_dir=data, database_url=url)
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    try:
        with session_factory(engine)() as session:
            sync_customers(session, settings.lake_dir)
            ids = list(session.scalars(select(Customer.customer_id)))
            admin = create_key(session, role=Role.ADMIN, name="bench-api", hall_id=None, now=now)
            app = create_key(session, role=Role.APP, name="bench-api-app", hall_id=None, now=now)
    finally:
        engine.dispose()
    if not ids:
        raise SystemExit(f"no customers in the lake of {data}")
    return Target(customer_ids=ids, keys={"counter": admin[1], "app": app[1]})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def uvicorn_server(app: str, env: dict[str, str], log: Path, *extra: str) -> Iterator[str]:
    """`uvicorn APP` in a subprocess (1 worker, no access log) until /healthz answers;
    stopped with SIGINT so that the app's lifespan shuts down as in service."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "1", "--no-access-log", *extra]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{app} did not start:\n{log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wrk_script(target: Target, path: Path) -> Path:
    """A Lua script: a random customer and channel per request; JSON summary at the end."""
    ids = ", ".join(json.dumps(cid) for cid in target.customer_ids)
    keys = ", ".join(f"{channel} = {json.dumps(key)}" for channel, key in target.keys.items())
    path.write_text(
        f"""
local ids = {{{ids}}}
local keys = {{{keys}}}
local channels = {{"counter", "app"}}
math.randomseed(os.time())
request = function()
  local channel = channels[math.random(2)]
  local path = "/v1/customers/" .. ids[math.random(#ids)] ..
    "/suggestions?channel=" .. channel .. "&limit=3"
  return wrk.format("GET", path, {{["X-API-Key"] = keys[channel]}})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {{"requests": %d, "us": %d, "errors": %d, "p50": %f, "p95": %f, "p99": %f}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""
    )
    return path


def run_wrk(url: str, script: Path, connections: int, seconds: float) -> Load:
    done = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH "))
    summary = json.loads(line.removeprefix("BENCH "))
    return Load(
        requests=summary["requests"],
        errors=summary["errors"],
        seconds=summary["us"] / 1e6,
        p50_ms=summary["p50"] / 1000,
        p95_ms=summary["p95"] / 1000,
        p99_ms=summary["p99"] / 1000,
    )


async def _ask(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str, key: str
) -> bool:
    """One GET on a keep-alive connection, its answer read whole; whether it was 2xx."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {key}\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    fields = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line)
    length = next((v for k, v in fields.items() if k.lower() == b"content-length"), None)
    if length is None:
        raise SystemExit(f"{path}: an answer without Content-Length")
    await reader.readexactly(int(length))
    return head.startswith(b"HTTP/1.1 2")


async def _keep_alive(
    host: str, port: int, target: Target, deadline: float, latencies: list[float]
) -> int:
    """One connection asking until `deadline`, one request at a time; returns failures (a
    connection the server dropped counts as one, and is opened again).

    Plain HTTP/1.1 on an asyncio stream: httpx's client costs more per request than the
    bare endpoint does, so with it the generator, not the server, would be measured."""
    pick = random.Random()
    failures = 0
    while time.perf_counter() < deadline:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                channel = pick.choice(CHANNELS)
                path = PATH.format(customer_id=pick.choice(target.customer_ids), channel=channel)
                began = time.perf_counter()
                ok = await _ask(reader, writer, host, path, target.keys[channel])
                latencies.append(time.perf_counter() - began)
                failures += not ok
        except (ConnectionError, asyncio.IncompleteReadError):
            failures += 1
        finally:
            writer.close()
    return failures


async def _python_load(url: str, target: Target, connections: int, seconds: float) -> Load:
    address = httpx.URL(url)
    latencies: list[float] = []
    started = time.perf_counter()
    failures = await asyncio.gather(
        *(
            _keep_alive(address.host, address.port or 80, target, started + seconds, latencies)
            for _ in range(connections)
        )
    )
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Load(len(latencies), sum(failures), elapsed, *(cuts[p - 1] * 1000 for p in (50, 95, 99)))


def run_python(url: str, target: Target, connections: int, seconds: float) -> Load:
    return asyncio.run(_python_load(url, target, connections, seconds))


def sample_answer(url: str, target: Target, samples: int = 25) -> bytes:
    """One of our answers of median size (counter channel), as served."""
    rng = random.Random(3)
    bodies = []
    with httpx.Client(base_url=url, headers={"X-API-Key": target.keys["counter"]}) as client:
        for customer_id in rng.sample(target.customer_ids, min(samples, len(target.customer_ids))):
            response = client.get(PATH.format(customer_id=customer_id, channel="counter"))
            response.raise_for_status()
            bodies.append(response.content)
    return sorted(bodies, key=len)[len(bodies) // 2]


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """What to serve: `--data DIR`, or a world of `--customers` x `--days` built here."""
    parser.add_argument("--data", type=Path, help="serve this data directory (else build one)")
    parser.add_argument(
        "--tracking-uri",
        help="MLflow registry of --data's champions (default: MLFLOW_TRACKING_URI, else "
        "the repository's mlruns/, where make run registers them)",
    )
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=7)


def served_data(args: argparse.Namespace, work: Path) -> tuple[Path, str]:
    """(data directory, MLflow tracking URI) to serve: `--data`'s, or a world built in
    `work`."""
    if args.data is not None:
        data = Path(args.data).resolve()
        if not (data / "lake").is_dir():
            raise SystemExit(f"--data {data}: no lake/ in it (run make pipeline models)")
        from training.tracking import ENV_VAR, default_tracking_uri

        return data, args.tracking_uri or os.environ.get(ENV_VAR) or default_tracking_uri(REPO_ROOT)
    data, tracking_uri = work / "data", f"sqlite:///{work / 'mlflow.db'}"
    print(f"building {args.customers:,} customers x {args.days} days in {data}")
    build_world(data, args.customers, args.days, args.seed, tracking_uri)
    return data, tracking_uri


def service_env(data: Path, database_url: str, tracking_uri: str) -> dict[str, str]:
    """The served app's environment: its own database, no rate limit in the way."""
    return os.environ | {
        "POWERHALL_DATA_DIR": str(data),
        "POWERHALL_DATABASE_URL": database_url,
        "POWERHALL_RATE_LIMIT_PER_MINUTE": str(NO_RATE_LIMIT),
        "MLFLOW_TRACKING_URI": tracking_uri,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    parser.add_argument("--seconds", type=float, default=15.0, help="per measurement")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--light-connections", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args()
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
    elif generator == "wrk" and not shutil.which("wrk"):
        raise SystemExit("--generator wrk: wrk is not installed (apt-get install wrk)")

    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        work = Path(tmp)
        data, tracking_uri = served_data(args, work)
        database_url = f"sqlite:///{work / 'service.db'}"
        target = prepare_database(data, database_url)
        env = service_env(data, database_url, tracking_uri)
        script = _wrk_script(target, work / "load.lua")

        def drive(url: str, connections: int, seconds: float) -> Load:
            """One measurement; then a pause, so that requests still in flight when the
            generator stopped do not slow the next measurement."""
            if generator == "wrk":
                load = run_wrk(url, script, connections, seconds)
            else:
                load = run_python(url, target, connections, seconds)
            time.sleep(SETTLE_S)
            return load

        with uvicorn_server("serving.main:create_app", env, work / "ours.log") as ours:
            answer = sample_answer(ours, target)
            (work / "bare.json").write_bytes(answer)
            bare_env = env | {BARE_JSON_ENV: str(work / "bare.json")}
            with uvicorn_server(
                "bench_api:bare_app", bare_env, work / "bare.log", "--app-dir", str(BENCH_DIR)
            ) as bare:
                bare_size = len(
                    httpx.get(bare + PATH.format(customer_id="x", channel="app")).content
                )
                servers = {"ours": ours, "bare": bare}
                for url in servers.values():
                    drive(url, args.light_connections, WARMUP_S)
                heavy: dict[str, list[Load]] = {name: [] for name in servers}
                light: dict[str, list[Load]] = {name: [] for name in servers}
                for _ in range(args.rounds):
                    for name, url in servers.items():
                        light[name].append(drive(url, args.light_connections, args.seconds))
                        heavy[name].append(drive(url, args.connections, args.seconds))

    def median(loads: list[Load], field: str) -> float:
        return statistics.median(getattr(load, field) for load in loads)

    print(
        f"\nGET /v1/customers/{{id}}/suggestions, {len(target.customer_ids):,} customers, "
        f"both channels; generator {generator}; {args.rounds} rounds of {args.seconds:.0f} s; "
        f"answer {len(answer):,} bytes, bare {bare_size:,} bytes"
    )
    print(f"{'':<26}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for loads, connections in ((heavy, args.connections), (light, args.light_connections)):
        for name in ("ours", "bare"):
            runs = loads[name]
            print(
                f"{f'{name}, {connections} connections':<26}"
                f"{median(runs, 'per_second'):>9,.0f}{median(runs, 'p50_ms'):>9.2f}"
                f"{median(runs, 'p95_ms'):>9.2f}{median(runs, 'p99_ms'):>9.2f}"
                f"{sum(r.errors for r in runs):>8}"
            )
    ratio = median(heavy["ours"], "per_second") / median(heavy["bare"], "per_second")
    p99 = median(heavy["ours"], "p99_ms")
    p99_light = median(light["ours"], "p99_ms")
    print(f"throughput ours / bare   {ratio:.2f}x  (goal >= {GOAL_RATIO}x)")
    print(f"p99 at {args.connections} connections  {p99:.1f} ms  (goal <= {GOAL_P99_MS:.0f} ms)")
    print(f"p99 at {args.light_connections} connections   {p99_light:.1f} ms")
    every = [r for runs in (*heavy.values(), *light.values()) for r in runs]
    errors = sum(r.errors for r in every)
    if errors:
        raise SystemExit(f"{errors} requests failed: the figures above are not valid")
    if any(r.requests == 0 for r in every):
        raise SystemExit("a measurement had no request answered at all: the server stalled")
    rows = [
        Row(
            f"requests/s at {args.connections} connections",
            median(heavy["ours"], "per_second"),
            "1/s",
            reference=median(heavy["bare"], "per_second"),
            reference_name="bare FastAPI endpoint, same answer size",
            ratio=ratio,
            goal=f">= {GOAL_RATIO}x bare",
            met=ratio >= GOAL_RATIO,
        ),
        *(
            Row(
                f"{quantile} latency at {connections} connections",
                median(loads["ours"], f"{quantile}_ms"),
                "ms",
                reference=median(loads["bare"], f"{quantile}_ms"),
                reference_name="bare FastAPI endpoint",
                ratio=median(loads["ours"], f"{quantile}_ms")
                / median(loads["bare"], f"{quantile}_ms"),
                goal=f"<= {GOAL_P99_MS:.0f} ms" if quantile == "p99" else None,
                met=median(loads["ours"], "p99_ms") <= GOAL_P99_MS if quantile == "p99" else None,
            )
            for loads, connections in (
                (heavy, args.connections),
                (light, args.light_connections),
            )
            for quantile in ("p50", "p95", "p99")
        ),
    ]
    parameters = vars(args) | {
        "data": str(args.data) if args.data else None,
        "generator": generator,
        "customers_in_directory": len(target.customer_ids),
        "answer_bytes": len(answer),
    }
    record("api", rows, parameters=parameters)


if __name__ == "__main__":
    main()
