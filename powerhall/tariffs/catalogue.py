"""The tariffs a customer can be offered: every ``*.yaml`` file of one directory.

The shipped files live in ``powerhall/tariffs/files`` (see the README there). An operator
who receives a new notice (e.g. this month's grid-agent purchase prices, 代理购电价格)
edits or replaces the one file of that tariff, or points ``load_catalogue`` at a directory
of their own; nothing else changes.

A catalogue file must say where it applies and where its figures come from, so
``name_en``, ``region`` and ``source`` are required here even though a stand-alone tariff
file (billed with ``powerhall tariffs bill --tariff FILE``) may leave them out.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

from powerhall.contract import Region, Segment
from powerhall.errors import NotFoundError, TariffError
from powerhall.tariffs.schema import Tariff, load_tariff

REQUIRED_METADATA = ("name_en", "region", "source")


def shipped_directory() -> Path:
    """The directory of the tariff files installed with powerhall."""
    return Path(str(files("powerhall.tariffs") / "files"))


class TariffCatalogue:
    """Tariffs by id, and the ones a customer of a segment and region may choose."""

    def __init__(self, tariffs: dict[str, Tariff]) -> None:
        self._tariffs = dict(sorted(tariffs.items()))

    def get(self, tariff_id: str) -> Tariff:
        try:
            return self._tariffs[tariff_id]
        except KeyError:
            known = ", ".join(self._tariffs) or "none"
            raise NotFoundError(f"unknown tariff {tariff_id!r}; known tariffs: {known}") from None

    def eligible(self, *, segment: Segment | str, region: Region | str) -> list[Tariff]:
        """Tariffs of the customer's own segment and region, by id."""
        return [t for t in self if t.segment == segment and t.region == region]

    def __iter__(self) -> Iterator[Tariff]:
        return iter(self._tariffs.values())

    def __len__(self) -> int:
        return len(self._tariffs)

    def __contains__(self, tariff_id: object) -> bool:
        return tariff_id in self._tariffs


def load_catalogue(directory: str | Path | None = None) -> TariffCatalogue:
    """Load every ``*.yaml`` tariff of `directory` (default: the shipped files)."""
    directory = shipped_directory() if directory is None else Path(directory)
    if not directory.is_dir():
        raise NotFoundError(f"tariff directory {directory} does not exist")
    tariffs: dict[str, Tariff] = {}
    origin: dict[str, Path] = {}
    for path in sorted(directory.glob("*.yaml")):
        tariff = load_tariff(path)
        if absent := [field for field in REQUIRED_METADATA if getattr(tariff, field) is None]:
            raise TariffError(
                f"tariff file {path}: {', '.join(absent)}: required for a catalogue tariff"
            )
        if tariff.id in tariffs:
            raise TariffError(
                f"tariff file {path}: id: {tariff.id!r} is also the id in {origin[tariff.id]}"
            )
        tariffs[tariff.id] = tariff
        origin[tariff.id] = path
    return TariffCatalogue(tariffs)
