"""Expected value and confidence of a candidate, and the order of candidates.

Expected value is in yuan a year so that kinds compare on one scale:
- tariff and tip: the customer's saving times the probability they act on it
  (tariff: the acceptance model's `best_tariff_acceptance`; tip: the ranker's score);
- retention: the account's yearly margin (`RETAIL_MARGIN` of its yearly bill) times the
  churn probability, the value a successful retention keeps;
- service recovery: `COMPLAINT_COST_CNY` times the probability of a complaint, which a
  recent outage or complaint raises to at least `EVENT_COMPLAINT_PROBABILITY`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from powerhall.contract import SuggestionKind

DEFAULT_TARIFF_ACCEPTANCE: Final = 0.1
"""Acceptance of a tariff offer when the acceptance model gave none: a cautious prior."""
DEFAULT_TIP_ACCEPTANCE: Final = 0.15
"""Acceptance of a tip without a ranker score (live catalogue, cold start)."""
RETAIL_MARGIN: Final = 0.05
"""The retailer's margin on a yuan of bill: what keeping an account is worth per year."""
COMPLAINT_COST_CNY: Final = 300.0
"""Handling, escalation and the hotline's regulated metrics: what one complaint costs."""
EVENT_COMPLAINT_PROBABILITY: Final = 0.5
"""After a recent outage or complaint, a complaint is at least this likely."""


class Evidence(StrEnum):
    """What a candidate's numbers rest on; it sets the confidence of tips."""

    SCORES = "scores"  # batch models on the customer's own profile
    PROFILE = "profile"  # the catalogue evaluated live on the customer's own profile
    SEGMENT = "segment"  # the segment's median profile (cold start, degraded)
    CATALOGUE = "catalogue"  # the segment alone: no profile, no saving
    EVENT = "event"  # a service event that happened (outage, complaint)
    RISK = "risk"  # a model's probability


TIP_CONFIDENCE: Final = {
    Evidence.SCORES: 0.7,
    Evidence.PROFILE: 0.6,
    Evidence.SEGMENT: 0.3,
    Evidence.CATALOGUE: 0.1,
}
UNBANDED_CONFIDENCE: Final = 0.5
"""A tariff saving without a P10-P90 band: as likely right as wrong."""


@dataclass(frozen=True)
class Candidate:
    """A suggestion before ranking and the contact policy; texts already in one language."""

    suggestion_id: str
    kind: str
    item_id: str
    title: str
    message: str
    script: str
    reasons: tuple[tuple[str, str], ...]
    """(code, text) pairs."""
    evidence: Evidence
    probability: float
    """Acceptance (tariff, tip) or risk (retention, service recovery)."""
    saving_cny: float | None = None
    saving_p10_cny: float | None = None
    saving_p90_cny: float | None = None
    yearly_bill_cny: float | None = None
    """Retention: the account's yearly bill."""


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    expected_value: float
    confidence: float

    @property
    def suggestion_id(self) -> str:
        return self.candidate.suggestion_id

    @property
    def kind(self) -> str:
        return self.candidate.kind

    @property
    def item_id(self) -> str:
        return self.candidate.item_id


def expected_value(candidate: Candidate) -> float:
    """Yuan a year the suggestion is expected to be worth (see the module doc)."""
    p = candidate.probability
    if candidate.kind == SuggestionKind.RETENTION:
        return (candidate.yearly_bill_cny or 0.0) * RETAIL_MARGIN * p
    if candidate.kind == SuggestionKind.SERVICE_RECOVERY:
        if candidate.evidence is Evidence.EVENT:
            p = max(p, EVENT_COMPLAINT_PROBABILITY)
        return COMPLAINT_COST_CNY * p
    return max(candidate.saving_cny or 0.0, 0.0) * p


def confidence(candidate: Candidate) -> float:
    """How sure the engine is of the suggestion's numbers, 0-1.

    A tariff saving: one minus the P10-P90 band's width relative to its size; a tip: by
    its evidence; a recovery after an event: certain; otherwise the model's probability.
    """
    if candidate.kind == SuggestionKind.TARIFF:
        low, high = candidate.saving_p10_cny, candidate.saving_p90_cny
        if low is None or high is None or abs(low) + abs(high) == 0:
            return UNBANDED_CONFIDENCE if candidate.saving_cny else 1.0
        return _unit(1 - (high - low) / (abs(high) + abs(low)))
    if candidate.kind == SuggestionKind.TIP:
        return TIP_CONFIDENCE.get(candidate.evidence, UNBANDED_CONFIDENCE)
    if candidate.evidence is Evidence.EVENT:
        return 1.0
    return _unit(candidate.probability)


def _unit(value: float) -> float:
    return 0.0 if math.isnan(value) else min(max(value, 0.0), 1.0)


def rank(candidates: Sequence[Candidate]) -> list[Ranked]:
    """Best expected value first; ties keep the order the candidates were made in."""
    ranked = [Ranked(c, round(expected_value(c), 2), round(confidence(c), 3)) for c in candidates]
    return sorted(ranked, key=lambda r: -r.expected_value)
