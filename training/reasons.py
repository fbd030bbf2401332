"""Reason codes: the features that pushed a customer's risk up, as sentences staff can say.

A reason is a feature with a positive SHAP contribution for that customer and a phrase
that applies to its value (a count above zero, a bill that rose). Features with no phrase
(engagement shares, load shape) still move the score but are not spoken: a counter
screen shows what a customer would recognise about their own account.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from training.model import RiskModel

TOP_REASONS: Final = 3


@dataclass(frozen=True)
class Phrase:
    zh: str
    en: str
    applies: Callable[[float], bool]


@dataclass(frozen=True)
class Reason:
    feature: str
    value: float
    contribution: float
    zh: str
    en: str


def _positive(value: float) -> bool:
    return value > 0


def _rose(value: float) -> bool:
    return value >= 0.05


def _recent(value: float) -> bool:
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


def _say(phrase: Phrase, value: float) -> tuple[str, str]:
    values = {"v": value, "pct": round(abs(value) * 100)}
    return phrase.zh.format(**values), phrase.en.format(**values)


def reasons_for(
    features: tuple[str, ...],
    values: np.ndarray,
    contributions: np.ndarray,
    top: int = TOP_REASONS,
) -> list[Reason]:
    """The `top` phrased features that raised one customer's risk most."""
    found: list[Reason] = []
    for j in np.argsort(-contributions, kind="stable"):
        name, value, push = features[j], float(values[j]), float(contributions[j])
        if push <= 0 or len(found) == top:
            break
        phrase = PHRASES.get(name)
        if phrase is None or math.isnan(value) or not phrase.applies(value):
            continue
        zh, en = _say(phrase, value)
        found.append(Reason(feature=name, value=value, contribution=push, zh=zh, en=en))
    return found


def explain(model: RiskModel, frame: pd.DataFrame, top: int = TOP_REASONS) -> list[list[Reason]]:
    """Reason codes of every row of `frame` (one list per row, possibly empty)."""
    contributions = model.contributions(frame)
    values = frame[list(model.features)].to_numpy(dtype=float)
    return [
        reasons_for(model.features, values[i], contributions[i], top) for i in range(len(frame))
    ]
