"""`powerhall push dispatch` and `powerhall push status`: the outbox's worker and its gauge."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import FrameType
from typing import Annotated

import typer
from rich.table import Table as RichTable
from sqlalchemy.orm import Session, sessionmaker

from powerhall.console import make_console
from powerhall.settings import get_settings
from serving.db.engine import make_engine, session_factory
from serving.db.migrate import upgrade
from serving.push.dispatcher import BatchReport, Dispatcher
from serving.push.outbox import status_report

app = typer.Typer(help="App pushes: the outbox's dispatcher and its status.", no_args_is_help=True)
console = make_console()


@contextmanager
def _sessions() -> Iterator[sessionmaker[Session]]:
    """Sessions on the configured database, migrated first (idempotent)."""
    url = get_settings().database_url
    upgrade(url)
    engine = make_engine(url)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


def _summary(report: BatchReport) -> str:
    return (
        f"{report.claimed:,} claimed, {report.delivered:,} delivered, "
        f"{report.retried:,} to retry, {report.dead:,} dead"
        + (f", {report.lost:,} taken over by another dispatcher" if report.lost else "")
    )


@app.command("dispatch")
def dispatch(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit.")
    ] = False,
    batch: Annotated[int, typer.Option(min=1, help="Pushes claimed per batch.")] = 100,
    poll_seconds: Annotated[
        float, typer.Option(min=0.01, help="Wait when nothing is due before looking again.")
    ] = 2.0,
) -> None:
    """Deliver the outbox to POWERHALL_PUSH_WEBHOOK_URL; without --once, run until SIGTERM
    or Ctrl-C, finishing the batch in flight."""
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        console.print(f"{signal.Signals(signum).name}: finishing the batch in flight")
        stop.set()

    settings = get_settings()
    with _sessions() as sessions, Dispatcher(sessions, settings) as dispatcher:
        if once:
            total = dispatcher.drain(batch)
        else:
            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
            console.print(f"Dispatcher {dispatcher.worker} delivering to {dispatcher.url}")
            total = dispatcher.run_forever(
                batch, poll_seconds, stop, on_batch=lambda r: console.print(_summary(r))
            )
    console.print(f"Pushes: {_summary(total)}")


@app.command("status")
def status() -> None:
    """Outbox depth by status, and the dead letters."""
    with _sessions() as sessions, sessions() as session:
        report = status_report(session)
    table = RichTable("status", "pushes")
    for name, count in report.by_status.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    if report.oldest_waiting is not None:
        age = datetime.now(UTC) - report.oldest_waiting
        console.print(f"Oldest waiting push queued {age.total_seconds() / 60:,.1f} minutes ago")
    console.print(f"Dead letters: {report.dead_letters:,}")
    if report.recent_dead:
        dead = RichTable("outbox id", "customer", "attempts", "died", "last error")
        for letter in report.recent_dead:
            dead.add_row(
                str(letter.outbox_id),
                letter.customer_id,
                str(letter.attempts),
                f"{letter.died_at:%Y-%m-%d %H:%M}",
                letter.last_error or "",
            )
        console.print(dead)
