"""Simulated time: rounds of two weeks, and the contract rows the world holds at a time.

The generator writes the whole world at once, up to the simulation's end. The service may
know only what has happened: at round k its lake holds the rows produced before the
round starts, as a utility's nightly ingest would have delivered them. `arrivals` cuts
them from the generated tables:

- customers created before the cut, a closure after it not known yet;
- readings of the days before it, service events before it;
- bills of the months that ended before it, a payment after it not known yet;
- the generator's own suggestions (the random offers made before powerhall) shown before
  the simulation starts, an answer given after the cut not known yet. From the start on,
  the simulated policies make every suggestion: the generator's later shows are dropped.

`arrive` ingests them through the data contract (`powerhall.ingest`), as `powerhall
ingest` does, so every round's lake is the real pipeline's.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from powerhall.contract import Outcome, Table
from powerhall.errors import PowerhallError
from powerhall.ingest import ingest
from powerhall.ingest.report import IngestReport

ROUND_DAYS: Final = 14
"""A round is two weeks: two weekly campaigns, then the nightly pipeline."""
CAMPAIGN_TIME: Final = time(10, 0)
"""Local time campaigns are sent, outside any quiet hours."""


@dataclass(frozen=True)
class Clock:
    """The rounds' calendar: round k starts on `start + k * round_days` (Mondays)."""

    start: date
    rounds: int
    timezone: str
    round_days: int = ROUND_DAYS

    def __post_init__(self) -> None:
        if self.start.weekday() != 0:
            raise PowerhallError(f"the simulation starts on a Monday, not on {self.start}")
        if self.rounds < 1:
            raise PowerhallError(f"rounds must be at least 1, got {self.rounds}")
        if self.round_days < 7 or self.round_days % 7:
            raise PowerhallError(f"a round is whole weeks, not {self.round_days} days")

    @classmethod
    def ending(cls, last_day: date, rounds: int, timezone: str) -> Clock:
        """The rounds that end with `last_day` (a Sunday): the generated data's last day."""
        if last_day.weekday() != 6:
            raise PowerhallError(f"the generated data must end on a Sunday, not on {last_day}")
        return cls(last_day + timedelta(days=1 - ROUND_DAYS * rounds), rounds, timezone)

    @property
    def end(self) -> date:
        """The Monday after the last round."""
        return self.round_start(self.rounds)

    def round_start(self, k: int) -> date:
        return self.start + timedelta(days=self.round_days * k)

    def campaign_days(self, k: int) -> list[date]:
        """One campaign a week in round k."""
        return [self.round_start(k) + timedelta(weeks=w) for w in range(self.round_days // 7)]

    def local(self, day: date, at: time = time(0)) -> datetime:
        """`day` at local time `at`, in UTC."""
        return datetime.combine(day, at, ZoneInfo(self.timezone)).astimezone(UTC)


def _between(column: pa.ChunkedArray, since: object | None, until: object) -> pa.ChunkedArray:
    before = pc.less(column, until)
    return before if since is None else pc.and_(pc.greater_equal(column, since), before)


def _masked(table: pa.Table, name: str, known: pa.ChunkedArray) -> pa.Table:
    """`table` with column `name` null where it is not `known` yet."""
    column = table[name]
    cleared = pc.if_else(pc.fill_null(known, True), column, pa.nulls(len(table), column.type))
    return table.set_column(table.schema.get_field_index(name), name, cleared)


def known_rows(
    table: Table, rows: pa.Table, *, since: date | None, until: date, clock: Clock
) -> pa.Table:
    """The rows of one generated table that reach the lake in [since, until), as known by
    `until` (since None: everything before `until`, the first ingest)."""
    cut = pa.scalar(clock.local(until), pa.timestamp("us", tz="UTC"))
    after = None if since is None else pa.scalar(clock.local(since), cut.type)
    if table is Table.CUSTOMERS:
        rows = rows.filter(pc.less(rows["created_at"], cut))
        return _masked(rows, "closed_at", pc.less(rows["closed_at"], cut))
    if table is Table.READINGS:
        return rows.filter(_between(rows["date"], since, until))
    if table is Table.SERVICE_EVENTS:
        return rows.filter(_between(rows["ts"], after, cut))
    if table is Table.BILLS:
        month = until.strftime("%Y-%m")
        closed = _between(rows["period"], None if since is None else since.strftime("%Y-%m"), month)
        if since is not None:
            paid = _between(rows["paid_at"], after, cut)
            closed = pc.or_(
                closed, pc.and_(pc.less(rows["period"], month), pc.fill_null(paid, False))
            )
        rows = rows.filter(closed)
        return _masked(rows, "paid_at", pc.less(rows["paid_at"], cut))
    start = pa.scalar(clock.local(clock.start), cut.type)
    rows = rows.filter(pc.less(rows["shown_at"], start))
    if since is not None:
        answered = pc.fill_null(_between(rows["outcome_at"], after, cut), False)
        rows = rows.filter(pc.or_(_between(rows["shown_at"], after, cut), answered))
    answered_by = pc.fill_null(pc.less(rows["outcome_at"], cut), True)
    outcome = pc.if_else(answered_by, rows["outcome"], pa.scalar(str(Outcome.IGNORED)))
    rows = rows.set_column(rows.schema.get_field_index("outcome"), "outcome", outcome)
    return _masked(rows, "outcome_at", answered_by)


def arrivals(generated: Path, out: Path, *, since: date | None, until: date, clock: Clock) -> int:
    """Write the rows of every contract table that arrive in [since, until) under `out`, in
    the layout `powerhall ingest` reads; returns how many rows."""
    count = 0
    for table in Table:
        parts = sorted((generated / table.value).glob("*.parquet"))
        if not parts:
            raise PowerhallError(f"{generated / table.value}: no generated parts")
        rows = known_rows(table, pq.read_table(parts), since=since, until=until, clock=clock)
        (out / table.value).mkdir(parents=True, exist_ok=True)
        pq.write_table(rows, out / table.value / "part-00000.parquet")
        count += rows.num_rows
    return count


def arrive(
    generated: Path,
    lake_dir: Path,
    quarantine_dir: Path,
    *,
    since: date | None,
    until: date,
    clock: Clock,
) -> IngestReport:
    """Ingest what arrived in [since, until) into `lake_dir`, through the data contract."""
    staging = Path(tempfile.mkdtemp(prefix="arrivals-", dir=lake_dir.parent))
    try:
        arrivals(generated, staging, since=since, until=until, clock=clock)
        return ingest(staging, lake_dir, quarantine_dir, timezone=clock.timezone)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
