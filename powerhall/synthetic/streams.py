"""Random streams keyed by customer block, so that the data do not depend on chunking.

Customers are cut into fixed blocks of `BLOCK_SIZE`; each block has its own generator per
purpose, seeded from (seed, purpose, block). A chunk is a run of whole blocks, so customer
42 receives the same draws whether it is generated in a chunk of 100 or of 100,000, while
the arithmetic still runs vectorised over the whole chunk.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

BLOCK_SIZE: Final = 100
"""Customers per random block; chunk boundaries are rounded to a multiple of it."""


def _purpose_key(purpose: str) -> int:
    return zlib.crc32(purpose.encode("utf-8"))


def shared_rng(seed: int, purpose: str) -> np.random.Generator:
    """A generator for draws shared by all customers (weather, halls, grid incidents)."""
    return np.random.default_rng([seed, _purpose_key(purpose)])


@dataclass(frozen=True)
class _Block:
    rng: np.random.Generator
    rows: slice


class CustomerStreams:
    """Draws for customers ``[start, stop)`` of one purpose, concatenated block by block."""

    def __init__(self, seed: int, purpose: str, start: int, stop: int) -> None:
        if start % BLOCK_SIZE:
            raise ValueError(f"a chunk must start on a block boundary, got customer {start}")
        key = _purpose_key(purpose)
        blocks = []
        for first in range(start, stop, BLOCK_SIZE):
            last = min(first + BLOCK_SIZE, stop)
            rng = np.random.default_rng([seed, key, first // BLOCK_SIZE])
            blocks.append(_Block(rng, slice(first - start, last - start)))
        self._blocks = tuple(blocks)
        self.n = stop - start

    def each(self, draw: Callable[[np.random.Generator, slice], np.ndarray]) -> np.ndarray:
        """Concatenate ``draw(rng, rows)`` over blocks; `rows` slices per-customer arrays.

        `draw` may return a different number of values per block (ragged draws such as the
        times of a Poisson number of events), as long as it depends only on that block.
        """
        return np.concatenate([draw(block.rng, block.rows) for block in self._blocks])

    def uniform(self, *shape: int, dtype: Any = np.float64) -> np.ndarray:
        return self.each(lambda rng, rows: rng.random((_len(rows), *shape), dtype=dtype))

    def normal(self, *shape: int, dtype: Any = np.float64) -> np.ndarray:
        return self.each(lambda rng, rows: rng.standard_normal((_len(rows), *shape), dtype=dtype))

    def beta(self, a: float, b: float) -> np.ndarray:
        return self.each(lambda rng, rows: rng.beta(a, b, _len(rows)))

    def integers(self, low: int, high: int, *shape: int) -> np.ndarray:
        return self.each(lambda rng, rows: rng.integers(low, high, (_len(rows), *shape)))

    def choice(self, n_options: int, p: np.ndarray) -> np.ndarray:
        """One option index per customer, with probabilities `p` (shared by all)."""
        return self.each(lambda rng, rows: rng.choice(n_options, size=_len(rows), p=p))

    def poisson(self, lam: np.ndarray) -> np.ndarray:
        """Per-customer Poisson counts for a per-customer rate array of shape (n, ...)."""
        return self.each(lambda rng, rows: rng.poisson(lam[rows]))


def _len(rows: slice) -> int:
    return int(rows.stop - rows.start)
