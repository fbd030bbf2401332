"""Reason codes: the features that pushed a customer's risk up, as sentences staff can say.

A reason is a feature with a positive SHAP contribution for that customer and a phrase
that applies to its value (a count above zero, a bill that rose). Features with no phrase
(engagement shares, load shape) still move the score but are not spoken: a counter
screen shows what a customer would recognise about their own account.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import numpy as np
import pandas as pd

from training.model import RiskModel

TOP_REASONS: Final = 3


@dataclass(frozen=True)
class Phrase:
    zh: str
    en: str
    applies: Callable[[np.ndarray], np.ndarray]
    """Elementwise over an array of values, so that a batch of customers is one call."""


@dataclass(frozen=True)
class Reason:
    feature: str
    value: float
    contribution: float
    zh: str
    en: str

    def as_dict(self) -> dict[str, str | float]:
        """The shape the scores view and the API carry: no contribution, a language per key."""
        return {"feature": self.feature, "value": self.value, "zh-CN": self.zh, "en": self.en}


def _positive(value: np.ndarray) -> np.ndarray:
    return value > 0


def _rose(value: np.ndarray) -> np.ndarray:
    return value >= 0.05


def _recent(value: np.ndarray) -> np.ndarray:
    return value <= 60


_WINDOWS: Final = {"7d": (7, "7"), "30d": (30, "30"), "90d": (90, "90"), "365d": (365, "365")}
_COUNTS: Final = {
    "complaints": ("近{days}天投诉{v:.0f}次", "{v:.0f} complaints in the last {days} days"),
    "calls_95598": (
        "近{days}天拨打95598热线{v:.0f}次",
        "{v:.0f} calls to the 95598 hotline in the last {days} days",
    ),
    "hall_visits": (
        "近{days}天到营业厅{v:.0f}次",
        "{v:.0f} business-hall visits in the last {days} days",
    ),
    "outages": ("近{days}天停电{v:.0f}次", "{v:.0f} outages in the last {days} days"),
    "meter_faults": ("近{days}天电表故障{v:.0f}次", "{v:.0f} meter faults in the last {days} days"),
    "long_waits": (
        "近{days}天营业厅排队超30分钟{v:.0f}次",
        "waited over 30 minutes at the hall {v:.0f} times in the last {days} days",
    ),
}

PHRASES: Final[dict[str, Phrase]] = {
    **{
        f"{name}_{window}": Phrase(
            zh.replace("{days}", label), en.replace("{days}", label), _positive
        )
        for name, (zh, en) in _COUNTS.items()
        for window, (_, label) in _WINDOWS.items()
    },
    "bill_yoy_change_90d": Phrase(
        "账单较去年同期上涨 {pct}%", "bill up {pct}% on last year", _rose
    ),
    **{
        f"bill_growth_{window}": Phrase(
            f"近{days}天账单较以往上涨 {{pct}}%",
            f"bills up {{pct}}% in the last {days} days",
            _rose,
        )
        for window, days in (("30d", 30), ("90d", 90))
    },
    **{
        f"estimated_days_{window}": Phrase(
            f"近{days}天有{{v:.0f}}天电量为估抄",
            f"{{v:.0f}} days of estimated readings in the last {days} days",
            _positive,
        )
        for window, days in (("30d", 30), ("90d", 90))
    },
    "complaints_all": Phrase("累计投诉{v:.0f}次", "{v:.0f} complaints in total", _positive),
    "tariff_suggestions_declined_365d": Phrase(
        "近一年拒绝电价方案{v:.0f}次",
        "declined {v:.0f} tariff offers in the last year",
        _positive,
    ),
    "kwh_yoy_change_90d": Phrase(
        "用电量较去年同期上涨 {pct}%", "consumption up {pct}% on last year", _rose
    ),
    "mean_wait_minutes_365d": Phrase(
        "营业厅平均等候{v:.0f}分钟",
        "waited {v:.0f} minutes on average at the business hall",
        lambda v: v >= 20,
    ),
    "estimated_share_365d": Phrase(
        "近一年{pct}%的电量为估抄", "{pct}% of readings estimated in the last year", _rose
    ),
    "last_satisfaction": Phrase(
        "最近一次满意度评价仅{v:.0f}分",
        "last satisfaction score only {v:.0f} of 5",
        lambda v: v <= 3,
    ),
    "arrears_cny": Phrase("欠费{v:.2f}元", "{v:.2f} yuan in arrears", _positive),
    "late_payments_365d": Phrase(
        "近一年逾期缴费{v:.0f}次", "{v:.0f} late payments in the last year", _positive
    ),
    "days_since_complaint": Phrase("{v:.0f}天前投诉过", "complained {v:.0f} days ago", _recent),
    "days_since_outage": Phrase("{v:.0f}天前经历停电", "outage {v:.0f} days ago", _recent),
    "retention_suggestions_declined_365d": Phrase(
        "近一年拒绝挽留方案{v:.0f}次",
        "declined {v:.0f} retention offers in the last year",
        _positive,
    ),
}


@lru_cache(maxsize=65_536)
def _say(name: str, value: float) -> tuple[str, str]:
    """Cached: counts and rounded shares repeat across customers far more than they vary."""
    phrase = PHRASES[name]
    values = {"v": value, "pct": round(abs(value) * 100)}
    return phrase.zh.format(**values), phrase.en.format(**values)


def speakable(features: Sequence[str], values: np.ndarray) -> np.ndarray:
    """Rows x features: True where the feature has a phrase that applies to the value.

    A row with no speakable feature has no reason whatever its SHAP values, which lets
    batch scoring skip their computation.
    """
    mask = np.zeros(values.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        for j, name in enumerate(features):
            phrase = PHRASES.get(name)
            if phrase is not None:
                column = values[:, j]
                mask[:, j] = ~np.isnan(column) & np.asarray(phrase.applies(column), dtype=bool)
    return mask


def top_phrased(
    features: Sequence[str],
    values: np.ndarray,
    contributions: np.ndarray,
    top: int = TOP_REASONS,
) -> np.ndarray:
    """Rows x `top` column indices of the speakable features that raised each row's risk
    most, strongest first; -1 fills the places of rows with fewer such features."""
    pushes = np.where(speakable(features, values) & (contributions > 0), contributions, -np.inf)
    order = np.argsort(-pushes, axis=1, kind="stable")[:, :top]
    return np.where(np.isfinite(np.take_along_axis(pushes, order, axis=1)), order, -1)


def picked_reasons(
    features: Sequence[str], values: np.ndarray, contributions: np.ndarray, picked: np.ndarray
) -> list[list[Reason]]:
    """The reasons of each row from its `top_phrased` indices."""
    found: list[list[Reason]] = []
    for row_values, row_pushes, row_picked in zip(values, contributions, picked, strict=True):
        row = []
        for j in row_picked[row_picked >= 0]:
            name, value = features[j], float(row_values[j])
            zh, en = _say(name, value)
            row.append(Reason(name, value, float(row_pushes[j]), zh, en))
        found.append(row)
    return found


def reasons_for(
    features: tuple[str, ...],
    values: np.ndarray,
    contributions: np.ndarray,
    top: int = TOP_REASONS,
) -> list[Reason]:
    """The `top` phrased features that raised one customer's risk most."""
    values, contributions = values[None, :], contributions[None, :]
    picked = top_phrased(features, values, contributions, top)
    return picked_reasons(features, values, contributions, picked)[0]


def explain(model: RiskModel, frame: pd.DataFrame, top: int = TOP_REASONS) -> list[list[Reason]]:
    """Reason codes of every row of `frame` (one list per row, possibly empty)."""
    contributions = model.contributions(frame)
    values = model.inputs(frame).to_numpy(dtype=float)
    picked = top_phrased(model.features, values, contributions, top)
    return picked_reasons(model.features, values, contributions, picked)


@lru_cache(maxsize=65_536)
def _fragment(name: str, value: float) -> str:
    zh, en = _say(name, value)
    return json.dumps({"feature": name, "value": value, "zh-CN": zh, "en": en}, ensure_ascii=False)


def as_json(reasons: Sequence[Reason]) -> str:
    """A JSON list of the reasons' `as_dict` shapes, Chinese kept readable (not escaped)."""
    return "[" + ", ".join(_fragment(r.feature, r.value) for r in reasons) + "]"


def picked_json(features: Sequence[str], values: np.ndarray, picked: np.ndarray) -> list[str]:
    """`as_json` of each row's `top_phrased` reasons without building Reason objects: batch
    scoring writes hundreds of thousands of rows, and per-row numpy indexing dominates."""
    chosen = np.take_along_axis(values, np.maximum(picked, 0), axis=1).tolist()
    return [
        "["
        + ", ".join(_fragment(features[j], v) for j, v in zip(row, said, strict=True) if j >= 0)
        + "]"
        for row, said in zip(picked.tolist(), chosen, strict=True)
    ]
