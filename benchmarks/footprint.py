"""Peak memory and disk of a benchmark stage, sampled while it runs.

`resource.getrusage` only gives the peak of the whole process so far, which cannot tell
one stage of a scale curve from the stage before it, and says nothing about a Spark JVM
or about the files (lake, spill, output) that a stage leaves on disk at its worst.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

import psutil

GIB = 1024**3


def directory_bytes(path: Path) -> int:
    """Bytes of every file under `path`; files removed while walking are skipped."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                continue
    return total


class Footprint:
    """Samples this process's RSS (children, e.g. a Spark JVM, included) and the bytes
    under `directory` every `interval` seconds, keeping the peaks."""

    def __init__(self, directory: Path, interval: float = 1.0) -> None:
        self.directory = directory
        self.interval = interval
        self.peak_rss = 0
        self.peak_disk = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        process = psutil.Process()
        rss = process.memory_info().rss
        for child in process.children(recursive=True):
            try:
                rss += child.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_disk = max(self.peak_disk, directory_bytes(self.directory))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> Footprint:
        self._sample()
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
