"""What every served answer leaves behind, its shown suggestions and its audit row,
written by one thread in batches: a group commit.

Each answer still waits for its own rows to commit before it is returned, so nothing
changes for its readers: the contact policy's history (the no-repeat rule), feedback on a
suggestion just shown and the inbox see it at once, and an answer the client received is
never lost at shutdown. What the batch saves is the per-answer cost of writing: one
transaction and one disk sync per answer, and, on SQLite, one fight for its single write
lock, in which waiters sleep in the busy handler long after the lock is free. Under load
the answers of every request in flight commit together in one transaction; alone, an
answer commits at once, as before.

The trade-off: an answer waits for the batch it joined (the writes of the answers before
it), and a batch that fails is retried answer by answer, so that one answer's bad row
fails that answer only. A request hands its own connection back before it waits (see
`serving.answers.serve_answer`): the writer then always finds one in the pool.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Engine, insert

from serving.db.tables import AuditEntry, SuggestionServed

logger = logging.getLogger(__name__)

MAX_BATCH: Final = 256
"""Answers per transaction at most: a few hundred rows, well under any statement limit."""

Row = Mapping[str, Any]


@dataclass(frozen=True)
class _Answer:
    served: Sequence[Row]
    audit: Row
    done: Future[None] = field(default_factory=Future)


class RecorderClosedError(RuntimeError):
    """An answer was given to a recorder that has shut down."""


class AnswerRecorder:
    """Writes answers' rows on its own thread; `record` returns once they are committed."""

    def __init__(self, engine: Engine, *, max_batch: int = MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, not {max_batch}")
        self._engine = engine
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Answer | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self.batches = 0
        """Transactions committed so far (one per batch): answers / batches is the gain."""
        self._thread = threading.Thread(target=self._run, name="answer-recorder", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Answers given and not taken into a batch yet."""
        return self._queue.qsize()

    def record(self, served: Sequence[Row], audit: Row) -> None:
        """Commit one answer's `suggestions_served` rows and its `audit_log` row; raises
        what the database raised for them (e.g. OperationalError: unavailable)."""
        answer = _Answer(served, audit)
        with self._lock:
            if self._closed:
                raise RecorderClosedError("the answer recorder is closed: the app is stopping")
            self._queue.put(answer)
        answer.done.result()

    def close(self) -> None:
        """Write every answer already given, then stop the thread (idempotent)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True  # nothing follows the stop: write what came before it
                    break
                batch.append(more)
            self._write(batch)

    def _write(self, batch: list[_Answer]) -> None:
        try:
            self._commit(batch)
        except Exception as exc:  # the database's error belongs to the answers that wait
            if len(batch) == 1:
                batch[0].done.set_exception(exc)
                return
            logger.warning("a batch of %d answers failed, writing them one by one", len(batch))
            for answer in batch:
                self._write([answer])
            return
        for answer in batch:
            answer.done.set_result(None)

    def _commit(self, batch: list[_Answer]) -> None:
        served = [row for answer in batch for row in answer.served]
        with self._engine.begin() as connection:
            if served:
                connection.execute(insert(SuggestionServed), served)
            connection.execute(insert(AuditEntry), [answer.audit for answer in batch])
        self.batches += 1
