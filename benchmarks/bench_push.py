"""App push campaigns: planning throughput, the outbox write, and dispatch to a gateway.

    .venv/bin/python benchmarks/bench_push.py --customers 2000

Generates, ingests and profiles synthetic customers into a temporary data directory,
materializes the online store and syncs the directory, then plans a campaign over all of
them on the app channel (customers/s), queues it (one transaction), and dispatches the
outbox to a local HTTP gateway that answers 200 (pushes/s; `--gateway-ms` makes each
answer that much slower, as a real gateway over the network would be). The engine runs
without champions and without batch scores: tips are evaluated live from each profile,
its costliest path.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from features.materialize import materialize
from features.online import OnlineProfiles
from features.profiles import build_profiles
from features.store import apply_definitions, open_store
from powerhall.ingest import ingest
from powerhall.settings import Settings
from powerhall.synthetic import generate
from powerhall.tariffs import load_catalogue
from powerhall.tips import load_tips
from serving.auth import Role, create_key
from serving.db.engine import make_engine, session_factory
from serving.db.migrate import upgrade
from serving.directory import sync_customers
from serving.push.campaigns import plan_campaign, queue_campaign
from serving.push.dispatcher import Dispatcher
from serving.push.schemas import CampaignCreate
from serving.suggestions import Suggester
from serving.suggestions.candidates import Catalogue
from serving.suggestions.champions import Champions
from serving.suggestions.defaults import segment_profiles

from results import Row, record

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
"""11:00 in Shanghai on a Monday: outside quiet hours."""


def gateway(delay_seconds: float) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real gateway

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            if delay_seconds:
                time.sleep(delay_seconds)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/push"


def prepare(work: Path, customers: int, days: int, seed: int) -> Settings:
    settings = Settings(data_dir=work / "data", database_url=f"sqlite:///{work / 'service.db'}")
    started = time.perf_counter()
    generate(customers=customers, days=days, seed=seed, out=settings.raw_dir)
    ingest(settings.raw_dir, settings.lake_dir, settings.quarantine_dir)
    build_profiles(settings.lake_dir, settings.offline_dir)
    store = open_store(settings)
    apply_definitions(store)
    materialize(store, settings, full=True)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        sync_customers(session, settings.lake_dir)
    engine.dispose()
    print(f"data for {customers:,} customers x {days} days: {time.perf_counter() - started:.0f} s")
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--gateway-ms", type=float, default=0.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = prepare(Path(tmp), args.customers, args.days, args.seed)
        suggester = Suggester(
            catalogue=Catalogue(load_tips(), load_catalogue()),
            policy=settings.contact_policy,
            timezone=settings.timezone,
            defaults=segment_profiles(settings),
            champions=Champions(names=()),
        )
        profiles = OnlineProfiles(open_store(settings))
        engine = make_engine(settings.database_url)
        sessions = session_factory(engine)
        request = CampaignCreate(name="bench", dry_run=False)
        with sessions() as session:
            key, _ = create_key(session, role=Role.ADMIN, name="bench", hall_id=None, now=NOW)
            started = time.perf_counter()
            plan = plan_campaign(session, request, suggester=suggester, profiles=profiles, now=NOW)
            planned = time.perf_counter() - started
            started = time.perf_counter()
            queue_campaign(
                session, plan, request, key_id=key.id, deep_link=settings.push_deep_link, now=NOW
            )
            queued = time.perf_counter() - started
        print(
            f"plan: {plan.customers:,} customers in {planned:.2f} s "
            f"({plan.customers / planned:,.0f} customers/s), {plan.messages:,} pushes; "
            f"excluded {dict((k, v) for k, v in plan.excluded.items() if v)}"
        )
        print(f"queue: {plan.messages:,} outbox + served rows in one transaction, {queued:.2f} s")

        server, url = gateway(args.gateway_ms / 1000)
        configured = settings.model_copy(update={"push_webhook_url": url})
        with Dispatcher(sessions, configured, clock=lambda: NOW) as dispatcher:
            started = time.perf_counter()
            report = dispatcher.drain(args.batch)
            elapsed = time.perf_counter() - started
        server.shutdown()
        engine.dispose()
        print(
            f"dispatch: {report.delivered:,} pushes in {elapsed:.2f} s "
            f"({report.delivered / elapsed:,.0f} pushes/s; batch {args.batch}, "
            f"{settings.push_concurrency} in flight, gateway answers in {args.gateway_ms} ms)"
        )
    record(
        "push",
        [
            Row("campaign planning", plan.customers / planned, "customers/s"),
            Row("outbox queueing, one transaction", queued, "s"),
            Row("dispatch to the gateway", report.delivered / elapsed, "pushes/s"),
        ],
        parameters=vars(args),
    )


if __name__ == "__main__":
    main()
