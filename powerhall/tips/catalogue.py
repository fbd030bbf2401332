"""The energy-saving tips: which apply to whom, and what each is worth, for many customers.

The shipped catalogue is ``powerhall/tips/catalogue.yaml``; an operator can point
`load_tips` at a file of their own. Profiles are one row per customer with the profile
features of the feature store and the customer's ``segment``; every method is vectorised
over the rows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
from pydantic import ValidationError

from powerhall.errors import ContractError, NotFoundError, TipsError
from powerhall.tips.schema import CatalogueFile, Columns, Condition, Tip
from powerhall.validation import describe_error, read_yaml_mapping

SEGMENT: Final = "segment"
"""The customers table's segment column, which profiles must carry beside their features."""


def shipped_path() -> Path:
    """The catalogue installed with powerhall."""
    return Path(str(files("powerhall.tips") / "catalogue.yaml"))


class TipCatalogue:
    """Tips by id, in file order (the column order of every frame returned)."""

    def __init__(self, tips: list[Tip], guards: list[Condition] | None = None) -> None:
        self._tips = {tip.id: tip for tip in tips}
        self.guards: tuple[Condition, ...] = tuple(guards or ())

    def get(self, tip_id: str) -> Tip:
        try:
            return self._tips[tip_id]
        except KeyError:
            raise NotFoundError(
                f"unknown tip {tip_id!r}; known tips: {', '.join(self.ids)}"
            ) from None

    @property
    def ids(self) -> list[str]:
        return list(self._tips)

    def features(self) -> list[str]:
        """Every profile feature a guard or a tip reads."""
        names = [c.feature for c in self.guards]
        names += [name for tip in self._tips.values() for name in tip.features()]
        return list(dict.fromkeys(names))

    def eligible(self, profiles: pd.DataFrame) -> pd.DataFrame:
        """(customers x tips) whether a tip is meant for the customer: its segment, the
        catalogue's guards and the tip's conditions all hold; a missing feature fails."""
        self._require(profiles, [SEGMENT, *self.features()], "profiles")
        eligible = self._eligible(Columns(profiles))
        return pd.DataFrame(eligible, index=profiles.index, columns=self.ids, dtype=bool)

    def estimate_savings(self, profiles: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
        """(customers x tips) estimated yuan per year; 0 where a tip is not eligible or an
        input is missing. `prices` holds each customer's tariff facts
        (`powerhall.tips.facts.customer_prices`), indexed like `profiles`."""
        if not prices.index.equals(profiles.index):
            raise ContractError("prices: must be indexed like profiles (one row per customer)")
        self._require(profiles, [SEGMENT, *self.features()], "profiles")
        facts = [f for tip in self for f in tip.saving.facts()]
        self._require(prices, list(dict.fromkeys(facts)), "prices")
        columns = Columns(profiles)
        yuan = self._savings(columns, Columns(prices), self._eligible(columns))
        return pd.DataFrame(yuan, index=profiles.index, columns=self.ids)

    def savings_of_one(
        self, profile: Mapping[str, Any], prices: Mapping[str, Any]
    ) -> dict[str, float]:
        """Yuan per year of each tip eligible for one customer (`profile` holds its
        segment and features, `prices` its tariff's facts), in catalogue order. The same
        rules as `estimate_savings`, without building frames: a fraction of a millisecond
        instead of tens, for a request that needs the whole catalogue live."""
        columns = Columns(profile)
        eligible = self._eligible(columns)
        yuan = self._savings(columns, Columns(prices), eligible)
        return {
            tip_id: float(y)
            for tip_id, y, ok in zip(self.ids, yuan[0], eligible[0], strict=True)
            if ok
        }

    def _eligible(self, profiles: Columns) -> np.ndarray:
        guarded = np.ones(len(profiles), dtype=bool)
        for guard in self.guards:
            guarded &= guard.holds(profiles)
        segment = profiles.strings(SEGMENT)
        columns = []
        for tip in self:
            ok = guarded & np.isin(segment, [str(s) for s in tip.segments])
            for condition in tip.conditions:
                ok &= condition.holds(profiles)
            columns.append(ok)
        return np.column_stack(columns)

    def _savings(self, profiles: Columns, prices: Columns, eligible: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            yuan = np.column_stack([tip.saving.yuan(profiles, prices) for tip in self])
        return np.where(eligible & np.isfinite(yuan), np.clip(yuan, 0, None), 0.0)

    @staticmethod
    def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
        if missing := [c for c in columns if c not in frame.columns]:
            raise ContractError(f"{what}: missing column(s) the tips need: {', '.join(missing)}")

    def __iter__(self) -> Iterator[Tip]:
        return iter(self._tips.values())

    def __len__(self) -> int:
        return len(self._tips)

    def __contains__(self, tip_id: object) -> bool:
        return tip_id in self._tips


def _describe(error: dict[str, Any], raw: dict[str, Any]) -> str:
    loc = list(error["loc"])
    # Name a tip by its id rather than its position, and drop the estimator's kind tag.
    if len(loc) >= 2 and loc[0] == "tips" and isinstance(loc[1], int):
        tips = raw.get("tips")
        tip = tips[loc[1]] if isinstance(tips, list) and loc[1] < len(tips) else None
        if isinstance(tip, dict) and isinstance(tip.get("id"), str):
            loc[:2] = [f"tip {tip['id']}"]
    if "saving" in loc and len(loc) > loc.index("saving") + 2:
        del loc[loc.index("saving") + 1]
    return describe_error(error, file_format="tips", loc=loc)


def load_tips(
    path: str | Path | None = None, *, known_features: Collection[str] | None = None
) -> TipCatalogue:
    """Read and validate a tips catalogue (default: the shipped one). With
    `known_features` (e.g. the feature store's profile feature names), a condition or
    saving that reads any other feature is refused."""
    path = shipped_path() if path is None else Path(path)
    raw = read_yaml_mapping(
        path, what="tips file", error=TipsError, top_level="a mapping with 'tips'"
    )
    try:
        parsed = CatalogueFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_describe(e, raw) for e in exc.errors())
        raise TipsError(f"tips file {path}: {problems}") from exc
    catalogue = TipCatalogue(parsed.tips, parsed.guards)
    if known_features is not None:
        known = set(known_features)
        problems = [
            f"guards: unknown feature {c.feature!r}"
            for c in parsed.guards
            if c.feature not in known
        ]
        problems += [
            f"tip {tip.id}: unknown feature {name!r}"
            for tip in parsed.tips
            for name in tip.features()
            if name not in known
        ]
        if problems:
            raise TipsError(f"tips file {path}: {'; '.join(problems)}")
    return catalogue
