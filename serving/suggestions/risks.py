"""A customer's churn and complaint risks with their reasons, from the batch scores.

Reasons arrive as the scores view's JSON (`churn_reasons`, `complaint_reasons`: a list of
``{"feature", "value", "zh-CN", "en"}``) or, when scored online, from the champion's
reason codes; either way each keeps both languages until the answer is rendered.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Final

from serving.suggestions.features import number
from serving.suggestions.model import Reason, Risk
from serving.suggestions.texts import EN, ZH

logger = logging.getLogger(__name__)

CHURN: Final = "churn"
COMPLAINT: Final = "complaint"
COLUMNS: Final = {
    CHURN: ("churn_risk", "churn_reasons"),
    COMPLAINT: ("complaint_risk_30d", "complaint_reasons"),
}
"""Risk -> its probability and reasons columns in the scores view."""


@dataclass(frozen=True)
class RiskScore:
    name: str
    probability: float
    reasons: tuple[tuple[str, dict[str, str]], ...]
    """(feature, language -> text) pairs, strongest first."""

    def render(self, language: str, high: float) -> Risk:
        """The risk in one language; `high` is its high level, medium from half of it."""
        level = (
            "high"
            if self.probability >= high
            else "medium"
            if self.probability >= high / 2
            else "low"
        )
        return Risk(
            name=self.name,
            probability=round(self.probability, 4),
            level=level,
            reasons=tuple(Reason(code, texts[language]) for code, texts in self.reasons),
        )


def parse_reasons(raw: Any) -> tuple[tuple[str, dict[str, str]], ...]:
    """The scores view's reasons JSON; unreadable or empty gives no reasons."""
    if raw is None:
        return ()
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
        return tuple(
            (str(item["feature"]), {ZH: str(item[ZH]), EN: str(item[EN])}) for item in items
        )
    except (TypeError, KeyError, ValueError) as exc:
        logger.warning("unreadable reasons %r: %s", raw, exc)
        return ()


def batch_risks(features: dict[str, Any]) -> dict[str, RiskScore]:
    """Risks present in the profile's scores (a model that did not score is absent)."""
    found = {}
    for name, (column, reasons) in COLUMNS.items():
        p = number(features, column)
        if p is not None:
            found[name] = RiskScore(name, p, parse_reasons(features.get(reasons)))
    return found
