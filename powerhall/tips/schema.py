"""The tips catalogue format as validated pydantic models.

A tip is data an operator can edit: who it is for (segments and conditions on profile
features), what the customer and the counter staff read (zh-CN and en), and how much it
saves. Conditions and savings are declarative: a condition compares one profile feature
with a constant, and a saving is one of a few named estimators with parameters, so that a
catalogue file can never run code. Unknown keys are refused: a typo must not be ignored.

Every estimator returns yuan per year for each customer, from profile features and the
tariff facts of `powerhall.tips.facts`; a missing input gives no saving (0), never a guess.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from powerhall.contract import Segment
from powerhall.tips.facts import (
    CAPACITY_CHARGE,
    DEMAND_BASIS,
    DEMAND_CHARGE,
    ENERGY_PRICE,
    PEAK_VALLEY_SPREAD,
    DemandBasis,
)

MONTHS_PER_YEAR: Final = 12
DAYS_PER_YEAR: Final = 365
HOURS_PER_YEAR: Final = 8760

Share = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
FeatureName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class Language(StrEnum):
    ZH_CN = "zh-CN"
    EN = "en"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Columns:
    """Features of many customers (a frame) or of one (a mapping of its values), each
    converted once: the conditions and estimators of a catalogue read the same few
    features dozens of times, and one customer at a time must not pay for pandas."""

    def __init__(self, source: pd.DataFrame | Mapping[str, Any]) -> None:
        self._frame = source if isinstance(source, pd.DataFrame) else None
        self._one: Mapping[str, Any] = {} if isinstance(source, pd.DataFrame) else source
        self._numbers: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return 1 if self._frame is None else len(self._frame)

    def number(self, name: str) -> np.ndarray:
        """The feature as floats: missing and non-numeric values (and, for one customer,
        a feature it lacks) are NaN; true and false are 1 and 0."""
        found = self._numbers.get(name)
        if found is None:
            found = self._numbers[name] = self._floats(name)
        return found

    def strings(self, name: str) -> np.ndarray:
        """The feature as str objects, None where missing."""
        if self._frame is not None:
            return self._frame[name].astype("string").to_numpy(dtype=object, na_value=None)
        value = self._one.get(name)
        return np.array([None if _missing(value) else str(value)], dtype=object)

    def _floats(self, name: str) -> np.ndarray:
        if self._frame is not None:
            numbers = pd.to_numeric(self._frame[name], errors="coerce")
            return numbers.to_numpy(dtype=float, na_value=np.nan)
        value = self._one.get(name)
        if isinstance(value, bool | int | float | np.number):
            return np.array([value], dtype=float)
        if _missing(value):
            return np.array([np.nan])
        numbers = pd.to_numeric(pd.Series([value], dtype=object), errors="coerce")
        return numbers.to_numpy(dtype=float, na_value=np.nan)


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


class Condition(_Strict):
    """``feature op value``; a customer whose feature is missing does not qualify."""

    feature: FeatureName
    op: Literal["==", "!=", ">", ">=", "<", "<="]
    value: bool | float

    @model_validator(mode="after")
    def _bool_is_equality(self) -> Condition:
        if isinstance(self.value, bool) and self.op not in ("==", "!="):
            raise ValueError(
                f"a true/false value can only be compared with == or !=, not {self.op}"
            )
        return self

    def holds(self, profiles: Columns) -> np.ndarray:
        """True and false compare as 1 and 0, so that a flag stored as a number counts."""
        compare: Callable[[np.ndarray, object], np.ndarray] = _OPERATORS[self.op]
        values = profiles.number(self.feature)
        with np.errstate(invalid="ignore"):
            return compare(values, float(self.value)) & ~np.isnan(values)


_OPERATORS: Final[dict[str, Callable[..., np.ndarray]]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}

PriceName = Literal["energy", "peak_valley_spread"]
_PRICE_FACT: Final = {"energy": ENERGY_PRICE, "peak_valley_spread": PEAK_VALLEY_SPREAD}


def _price(prices: Columns, name: PriceName) -> np.ndarray:
    return prices.number(_PRICE_FACT[name])


class ShareOfKwh(_Strict):
    """A share of the customer's kWh saved (price ``energy``) or moved from peak to valley
    (price ``peak_valley_spread``): ``share x kWh x fractions x (1 - complements) x price``.
    ``fractions`` narrow the kWh to a part of the day (e.g. ``peak_share_365d``), and
    ``complements`` to what is not yet there (e.g. ``1 - valley_share_365d``)."""

    kind: Literal["share_of_kwh"]
    share: Share
    kwh: FeatureName = "kwh_365d"
    fractions: list[FeatureName] = Field(default_factory=list)
    complements: list[FeatureName] = Field(default_factory=list)
    price: PriceName

    def features(self) -> tuple[str, ...]:
        return (self.kwh, *self.fractions, *self.complements)

    def facts(self) -> tuple[str, ...]:
        return (_PRICE_FACT[self.price],)

    def yuan(self, profiles: Columns, prices: Columns) -> np.ndarray:
        kwh = self.share * profiles.number(self.kwh)
        for name in self.fractions:
            kwh = kwh * np.clip(profiles.number(name), 0, 1)
        for name in self.complements:
            kwh = kwh * (1 - np.clip(profiles.number(name), 0, 1))
        return kwh * _price(prices, self.price)


class SeasonalKwh(_Strict):
    """A share of the extra kWh of a season (heating or cooling): the season's part of the
    year's kWh above the shoulder months' level, read from a season/shoulder ratio."""

    kind: Literal["seasonal_kwh"]
    share: Share
    ratio: FeatureName
    season_days: int = Field(gt=0, le=DAYS_PER_YEAR)
    price: PriceName = "energy"

    def features(self) -> tuple[str, ...]:
        return ("kwh_365d", self.ratio)

    def facts(self) -> tuple[str, ...]:
        return (_PRICE_FACT[self.price],)

    def yuan(self, profiles: Columns, prices: Columns) -> np.ndarray:
        ratio = profiles.number(self.ratio)
        with np.errstate(divide="ignore", invalid="ignore"):
            excess = np.clip(1 - 1 / ratio, 0, 1)
        season_kwh = profiles.number("kwh_365d") * self.season_days / DAYS_PER_YEAR
        return self.share * season_kwh * excess * _price(prices, self.price)


class RecurringLoad(_Strict):
    """A load seen on a share of days (e.g. EV charging sessions), of which ``share`` can
    move to the valley: ``days_share x 365 x kwh_per_day x share x price``."""

    kind: Literal["recurring_load"]
    days_share: FeatureName
    kwh_per_day: Positive
    share: Share
    price: PriceName = "peak_valley_spread"

    def features(self) -> tuple[str, ...]:
        return (self.days_share,)

    def facts(self) -> tuple[str, ...]:
        return (_PRICE_FACT[self.price],)

    def yuan(self, profiles: Columns, prices: Columns) -> np.ndarray:
        days = DAYS_PER_YEAR * np.clip(profiles.number(self.days_share), 0, 1)
        return days * self.kwh_per_day * self.share * _price(prices, self.price)


class ShareOfBill(_Strict):
    """A share of the year's bills, for charges that scale with the whole bill (e.g. the
    power-factor adjustment, 力调电费, a percentage of the bill)."""

    kind: Literal["share_of_bill"]
    share: Share

    def features(self) -> tuple[str, ...]:
        return ("avg_bill_cny_365d", "bills_365d")

    def facts(self) -> tuple[str, ...]:
        return ()

    def yuan(self, profiles: Columns, prices: Columns) -> np.ndarray:
        annual = profiles.number("avg_bill_cny_365d") * profiles.number("bills_365d")
        return self.share * annual


def _capacity_kva(profiles: Columns) -> np.ndarray:
    """Contracted capacity, recovered from the highest demand and its ratio to capacity."""
    with np.errstate(divide="ignore", invalid="ignore"):
        capacity = profiles.number("max_demand_kw_365d") / profiles.number(
            "demand_capacity_ratio_365d"
        )
    return np.where(np.isfinite(capacity), capacity, np.nan)


_DEMAND_FEATURES: Final = ("max_demand_kw_365d", "demand_capacity_ratio_365d")


class DemandBasisSwitch(_Strict):
    """Two-part tariffs charge per kVA of contracted capacity or per kW of the month's
    highest demand; the saving is this year's charge on the current basis minus the same
    year charged on the other one, when that is lower."""

    kind: Literal["demand_basis_switch"]

    def features(self) -> tuple[str, ...]:
        return _DEMAND_FEATURES

    def facts(self) -> tuple[str, ...]:
        return (DEMAND_BASIS, CAPACITY_CHARGE, DEMAND_CHARGE)

    def yuan(self, profiles: Columns, prices: Columns) -> np.ndarray:
        on_capacity = MONTHS_PER_YEAR * _capacity_kva(profiles) * prices.number(CAPACITY_CHARGE)
        on_demand = (
            MONTHS_PER_YEAR * profiles.number("max_demand_kw_365d") * prices.number(DEMAND_CHARGE)
        )
        basis = prices.strings(DEMAND_BASIS)
        return np.select(
            [basis == DemandBasis.CAPACITY, basis == DemandBasis.MAX_DEMAND],
            [on_capacity - on_demand, on_demand - on_capacity],
            default=0.0,
        )


class PeakDemandShave(_Strict):
    """Customers charged on maximum demand save ``share`` of that demand's charge by
    staggering the start of large loads."""

    kind: Literal["peak_demand_shave"]
    share: Share

    def features(self) -> tuple[str, ...]:
        return ("max_demand_kw_365d",)

    def facts(self) -> tuple[str, ...]:
        return (DEMAND_BASIS, DEMAND_CHARGE)

    def yuan(self, profiles: Columns, prices: Columns) -> np.ndarray:
        charge = (
            MONTHS_PER_YEAR * profiles.number("max_demand_kw_365d") * prices.number(DEMAND_CHARGE)
        )
        on_demand = prices.strings(DEMAND_BASIS) == DemandBasis.MAX_DEMAND
        return np.where(on_demand, self.share * charge, 0.0)


class NoLoadLosses(_Strict):
    """Transformer no-load (iron) losses run all year whatever the load: an oversized or
    idle transformer taken out of service saves ``kw_per_kva x capacity x hours x share``
    kWh at the energy price."""

    kind: Literal["no_load_losses"]
    kw_per_kva: Positive = Field(le=0.01)
    share: Share

    def features(self) -> tuple[str, ...]:
        return _DEMAND_FEATURES

    def facts(self) -> tuple[str, ...]:
        return (ENERGY_PRICE,)

    def yuan(self, profiles: Columns, prices: Columns) -> np.ndarray:
        kwh = self.kw_per_kva * _capacity_kva(profiles) * HOURS_PER_YEAR * self.share
        return kwh * prices.number(ENERGY_PRICE)


Estimator = Annotated[
    ShareOfKwh
    | SeasonalKwh
    | RecurringLoad
    | ShareOfBill
    | DemandBasisSwitch
    | PeakDemandShave
    | NoLoadLosses,
    Field(discriminator="kind"),
]


class Text(_Strict):
    """One text in both languages; neither may be blank."""

    zh_cn: str = Field(alias=Language.ZH_CN.value, min_length=1, pattern=r"\S")
    en: str = Field(min_length=1, pattern=r"\S")

    def __getitem__(self, lang: Language | str) -> str:
        return self.zh_cn if Language(lang) is Language.ZH_CN else self.en


class TipText(_Strict):
    """What the app shows (title, message) and what the counter staff say (script)."""

    title: str
    message: str
    script: str


class Tip(_Strict):
    id: str = Field(pattern=r"^tip-[a-z0-9][a-z0-9-]*$")
    segments: list[Segment] = Field(min_length=1)
    title: Text
    message: Text
    script: Text = Field(description="One line the counter staff can say.")
    conditions: list[Condition] = Field(default_factory=list)
    saving: Estimator

    @model_validator(mode="after")
    def _segments_once(self) -> Tip:
        if len(set(self.segments)) != len(self.segments):
            raise ValueError(f"segments: a segment is listed twice in {list(self.segments)}")
        return self

    def text(self, lang: Language | str) -> TipText:
        """The tip's texts in `lang` (``zh-CN`` or ``en``)."""
        lang = Language(lang)
        return TipText(title=self.title[lang], message=self.message[lang], script=self.script[lang])

    def features(self) -> tuple[str, ...]:
        """Every profile feature the tip reads, conditions and saving."""
        return tuple(
            dict.fromkeys([*(c.feature for c in self.conditions), *self.saving.features()])
        )


class CatalogueFile(_Strict):
    """The whole YAML file: guards that hold for every tip, then the tips."""

    guards: list[Condition] = Field(
        default_factory=list,
        description="Conditions every tip needs, e.g. no saving advice for a vacant premises.",
    )
    tips: list[Tip] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids_unique(self) -> CatalogueFile:
        seen: set[str] = set()
        for i, tip in enumerate(self.tips):
            if tip.id in seen:
                raise ValueError(f"tips.{i}.id: {tip.id!r} is the id of an earlier tip")
            seen.add(tip.id)
        return self
