"""The counter screen in Chromium: from a customer identified at a counter to their
suggestions on the screen.

    .venv/bin/python benchmarks/bench_counter_screen.py [--data DIR] [--sessions 50]

The app is served by uvicorn in a subprocess (as `bench_api.py` serves it, on the same
kind of data: `--data DIR`, or a world built in a temporary folder). Debian's Chromium,
driven by Playwright, opens the counter page of the hall with the most customers with a
counter key of that hall. Then, `--sessions` times, the hall's queue system (an HTTP
client here) posts a session for a customer of the hall drawn at random, and the time is
taken from just before the POST to the moment the page's DOM shows that customer and the
suggestions of that answer: the POST (profile read, engine, answer recorded), the
server-sent event to the screen, and the page's rendering. A MutationObserver in the page
stamps each render with the wall clock (`performance.timeOrigin + now()`), the clock the
benchmark read before the POST, so that neither Playwright's polling nor its round trips
are counted.

Goal (issue 8): p95 within 300 ms (DESIGN: "within a second the counter screen shows").
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from bench_api import add_data_arguments, served_data, service_env, uvicorn_server

from results import Row, record

CHROMIUM = Path("/usr/bin/chromium")
COUNTER = "1"
GOAL_P95_MS = 300.0
WARMUP_SESSIONS = 3
WAIT_MS = 10_000
"""How long one session may take to appear before the benchmark gives up on it."""

OBSERVE_RENDERS = """() => {
  window.__renders = [];
  const session = document.getElementById("session");
  new MutationObserver(() => {
    const items = document.querySelectorAll("#suggestion-list [data-suggestion-id]");
    window.__renders.push({
      customer: document.getElementById("customer-id").textContent,
      suggestions: Array.from(items, (item) => item.dataset.suggestionId),
      at: performance.timeOrigin + performance.now(),
    });
  }).observe(session, { subtree: true, childList: true, characterData: true });
}"""
"""Every change of the session panel, stamped: render() changes it in one task, so one
record per render (a later change, e.g. feedback, only adds records)."""

RENDERED = """([from, customer, suggestions]) => window.__renders.slice(from).find(
  (r) => r.customer === customer && r.suggestions.join() === suggestions.join()) ?? null"""


def prepare_hall(data: Path, url: str) -> tuple[str, str, list[str]]:
    """A fresh service database: (hall, a counter key of it, the hall's customers)."""
    from sqlalchemy import func, select

    from powerhall.settings import Settings
    from serving.auth import Role, create_key
    from serving.db.engine import make_engine, session_factory
    from serving.db.migrate import upgrade
    from serving.db.tables import Customer
    from serving.directory import sync_customers

    upgrade(url)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            sync_customers(session, Settings(data_dir=data, database_url=url).lake_dir)
            hall = session.scalars(
                select(Customer.hall_id)
                .where(Customer.hall_id.is_not(None), Customer.closed_at.is_(None))
                .group_by(Customer.hall_id)
                .order_by(func.count().desc(), Customer.hall_id)
            ).first()
            if hall is None:
                raise SystemExit(f"no open customer of a hall in the lake of {data}")
            customers = list(
                session.scalars(
                    select(Customer.customer_id).where(
                        Customer.hall_id == hall, Customer.closed_at.is_(None)
                    )
                )
            )
            _, token = create_key(
                session,
                role=Role.COUNTER,
                name="bench-counter",
                hall_id=hall,
                now=datetime.now(UTC),
            )
    finally:
        engine.dispose()
    return hall, token, customers


def one_session(page: Any, http: httpx.Client, hall: str, customer_id: str) -> tuple[float, float]:
    """(ms from before the POST to the rendered answer, ms of the POST itself)."""
    seen = page.evaluate("() => window.__renders.length")
    started = time.time() * 1000
    response = http.post(
        f"/v1/halls/{hall}/counters/{COUNTER}/sessions", json={"customer_id": customer_id}
    )
    posted = time.time() * 1000
    if response.status_code != 201:
        raise SystemExit(f"POST session for {customer_id}: {response.status_code} {response.text}")
    expected = [s["suggestion_id"] for s in response.json()["answer"]["suggestions"]]
    rendered = page.wait_for_function(
        RENDERED, arg=[seen, customer_id, expected], timeout=WAIT_MS
    ).json_value()
    return rendered["at"] - started, posted - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    parser.add_argument("--sessions", type=int, default=50)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-counter-") as tmp:
        work = Path(tmp)
        data, tracking_uri = served_data(args, work)
        database_url = f"sqlite:///{work / 'service.db'}"
        hall, token, customers = prepare_hall(data, database_url)
        env = service_env(data, database_url, tracking_uri)
        rng = random.Random(args.seed)
        total: list[float] = []
        post: list[float] = []
        with (
            uvicorn_server("serving.main:create_app", env, work / "server.log") as url,
            sync_playwright() as playwright,
            httpx.Client(base_url=url, headers={"X-API-Key": token}, timeout=30) as http,
        ):
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
                page.goto(f"{url}/counter/{hall}/{COUNTER}?key={token}")
                page.wait_for_selector("#status[data-state=connected]", timeout=WAIT_MS)
                page.evaluate(OBSERVE_RENDERS)
                for i in range(WARMUP_SESSIONS + args.sessions):
                    ms, post_ms = one_session(page, http, hall, rng.choice(customers))
                    if i >= WARMUP_SESSIONS:
                        total.append(ms)
                        post.append(post_ms)
            finally:
                browser.close()

    def percentile(values: list[float], p: int) -> float:
        return statistics.quantiles(values, n=100, method="inclusive")[p - 1]

    p50, p95 = percentile(total, 50), percentile(total, 95)
    post50, post95 = percentile(post, 50), percentile(post, 95)
    print(
        f"\ncounter screen {hall}/{COUNTER} in Chromium, {args.sessions} sessions "
        f"({len(customers):,} customers in the hall)"
    )
    print(f"{'':<34}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    print(f"{'POST session (answer served)':<34}{post50:>9.1f}{post95:>9.1f}{max(post):>9.1f}")
    print(f"{'POST until rendered on the screen':<34}{p50:>9.1f}{p95:>9.1f}{max(total):>9.1f}")
    print(f"p95 / goal   {p95 / GOAL_P95_MS:.2f}  (goal <= 1.00: {GOAL_P95_MS:.0f} ms)")
    record(
        "counter_screen",
        [
            Row(
                "session posted until rendered, p95",
                p95,
                "ms",
                reference=GOAL_P95_MS,
                reference_name="goal",
                ratio=p95 / GOAL_P95_MS,
                goal=f"<= {GOAL_P95_MS:.0f} ms",
                met=p95 <= GOAL_P95_MS,
            ),
            Row("session posted until rendered, p50", p50, "ms"),
            Row("POST session answered, p95", post95, "ms"),
            Row("POST session answered, p50", post50, "ms"),
        ],
        parameters=vars(args) | {"data": str(args.data) if args.data else None, "hall": hall},
    )


if __name__ == "__main__":
    main()
