"""Expected value and confidence of a candidate, and the order of candidates.

Expected value is in yuan a year so that kinds compare on one scale:
- tariff and tip: the customer's saving times the probability they act on it
  (tariff: the acceptance model's `best_tariff_acceptance`; tip: the ranker's score);
- retention: the account's yearly margin (`RETAIL_MARGIN` of its yearly bill) times the
  churn probability, the value a successful retention keeps;
- service recovery: `COMPLAINT_COST_CNY` times the probability of a complaint, which a
  recent outage or complaint raises to at least `EVENT_COMPLAINT_PROBABILITY`;
- peer comparison: the yuan a year the customer would save using as much as the median
  of similar homes, times `DEFAULT_PEER_RESPONSE`;
- bill alert: the yuan this month's forecast bill is above the usual one, the surprise the
  warning spares (it is timely and rare: a month's shock ranks with a year's saving).

The models' acceptance of a tariff or tip is corrected by the answers its item has had so
far (`with_outcomes`): a model trained on a few hundred answers can keep scoring an item
that customers keep turning down, and the engine should learn from what they did.

A small share of answers explores instead (`Exploration`, `POWERHALL_EXPLORATION_SHARE`):
a model only learns about the items it shows, so without it a tip the ranker scores low
would never be shown again, nor a new one ever be.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from powerhall.contract import SuggestionKind
from powerhall.errors import ContractError

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
DEFAULT_PEER_RESPONSE: Final = 0.1
"""Share of the gap to similar homes' median that a comparison closes: a cautious prior.
On a home 30 % above its peers it is worth about 2 % of the bill, the average reduction
measured for home energy reports (Allcott 2011, "Social norms and energy conservation")."""
PEER_CONFIDENCE: Final = 0.7
"""The peer figures are measured on at least `peer_min_group_size` homes, but how alike
"similar homes" are is not: as sure as a tip the ranker scored on the customer's profile."""


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
class BillFigures:
    """A bill alert's month: the forecast bill with its P10-P90 band, and the usual bill."""

    forecast_cny: float
    p10_cny: float | None
    p90_cny: float | None
    usual_cny: float | None


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
    bill: BillFigures | None = None
    """Bill alert: the month's forecast and usual bills."""


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
    if candidate.kind == SuggestionKind.BILL_ALERT and candidate.bill is not None:
        bill = candidate.bill
        return max(bill.forecast_cny - (bill.usual_cny or bill.forecast_cny), 0.0)
    if candidate.kind == SuggestionKind.RETENTION:
        return (candidate.yearly_bill_cny or 0.0) * RETAIL_MARGIN * p
    if candidate.kind == SuggestionKind.SERVICE_RECOVERY:
        if candidate.evidence is Evidence.EVENT:
            p = max(p, EVENT_COMPLAINT_PROBABILITY)
        return COMPLAINT_COST_CNY * p
    return max(candidate.saving_cny or 0.0, 0.0) * p


NO_VALUE: Final = "no_value"
"""How a push counts the candidates left out as nothing to act on (`worth_pushing`)."""


def worth_pushing(candidate: Candidate) -> bool:
    """Whether a push of the candidate carries something the customer can act on and gain
    from. A push costs the customer's attention and a place under the contact policy's
    caps, so tariff advice is pushed only as a switch that saves: advice to stay on one's
    tariff is an answer for the counter ("is my tariff the best?"), not a message. Every
    other kind is an action to take (a tip, whose saving the catalogue may not be able to
    price), a warning, a comparison or care."""
    if candidate.kind == SuggestionKind.TARIFF:
        return candidate.saving_cny is not None and candidate.saving_cny > 0
    return True


def confidence(candidate: Candidate) -> float:
    """How sure the engine is of the suggestion's numbers, 0-1.

    A tariff saving: one minus the P10-P90 band's width relative to its size; a tip: by
    its evidence; a peer comparison: `PEER_CONFIDENCE`; a bill alert: one minus its
    bill's P10-P90 width relative to its size; a recovery after an event: certain;
    otherwise the model's probability.
    """
    if candidate.kind == SuggestionKind.TARIFF:
        low, high = candidate.saving_p10_cny, candidate.saving_p90_cny
        if low is None or high is None or abs(low) + abs(high) == 0:
            return UNBANDED_CONFIDENCE if candidate.saving_cny else 1.0
        return _unit(1 - (high - low) / (abs(high) + abs(low)))
    if candidate.kind == SuggestionKind.TIP:
        return TIP_CONFIDENCE.get(candidate.evidence, UNBANDED_CONFIDENCE)
    if candidate.kind == SuggestionKind.PEER_COMPARISON:
        return PEER_CONFIDENCE
    if candidate.kind == SuggestionKind.BILL_ALERT and candidate.bill is not None:
        low, high = candidate.bill.p10_cny, candidate.bill.p90_cny
        if low is None or high is None or low + high <= 0:
            return UNBANDED_CONFIDENCE
        return _unit(1 - (high - low) / (high + low))
    if candidate.evidence is Evidence.EVENT:
        return 1.0
    return _unit(candidate.probability)


def _unit(value: float) -> float:
    return 0.0 if math.isnan(value) else min(max(value, 0.0), 1.0)


EXPLORED_KINDS: Final = frozenset({SuggestionKind.TARIFF, SuggestionKind.TIP})
"""Kinds whose probability is the customer's acceptance of a saving: what exploration draws.
The others' probability is a risk (retention, service recovery) or a prior on a response
that is not an acceptance (peer comparison), which a Beta of acceptances cannot replace."""

Arm = tuple[str, str]
"""(kind, item id): the unit exploration keeps outcomes of, e.g. ("tip", "tip-ac-26c")."""


def _unit_hash(*parts: object) -> int:
    """A stable 64-bit integer of `parts` (Python's `hash` changes between processes)."""
    text = "/".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


class Exploration:
    """Thompson sampling over suggestion items, in a share of answers.

    Each item has a Beta(1 + accepted, 1 + shown - accepted) posterior of its acceptance
    from the outcomes observed so far (an item never shown: the uniform Beta(1, 1)). An
    exploring answer orders tariff and tip candidates by their yuan saving times a draw
    from their item's posterior instead of the models' acceptance, so that items the models
    rank low, or have never seen, get shown and gather evidence; the others keep their
    expected value. Whether an answer explores, and what it draws, is a pure function of
    the seed and the answer's key (a customer and a local day): a counter screen refreshed
    during a visit shows the same suggestions, and a test fixes them with the seed.
    """

    def __init__(
        self, share: float, *, seed: int = 0, observed: Mapping[Arm, tuple[int, int]] | None = None
    ) -> None:
        if not 0 <= share <= 1:
            raise ContractError(f"exploration share must be between 0 and 1, not {share}")
        self.share = share
        self.seed = seed
        self.observed: dict[Arm, tuple[int, int]] = dict(observed or {})
        """Arm -> (shown, accepted)."""
        if bad := [arm for arm, (n, a) in self.observed.items() if not 0 <= a <= n]:
            raise ContractError(f"observed outcomes need 0 <= accepted <= shown: {bad[:3]}")

    def explores(self, key: str) -> bool:
        """Whether the answer `key` explores: true for about `share` of keys."""
        return self.share > 0 and _unit_hash(self.seed, "explore", key) / 2**64 < self.share

    def draw(self, key: str, arms: Sequence[Arm]) -> list[float]:
        """One acceptance per arm, drawn from its posterior; the same key draws the same."""
        rng = random.Random(_unit_hash(self.seed, "draw", key))
        draws = []
        for arm in arms:
            shown, accepted = self.observed.get(arm, (0, 0))
            draws.append(rng.betavariate(1 + accepted, 1 + shown - accepted))
        return draws


PRIOR_ANSWERS: Final = 10.0
"""How many answers a model's acceptance weighs against its item's observed outcomes: an
item answered ten times is judged half by its answers, one answered a hundred times
mostly by them. The models score the customer, the outcomes the item (its rate over
everyone it was shown to): the model should lead until the item has a record."""


def with_outcomes(candidate: Candidate, observed: Mapping[Arm, tuple[int, int]]) -> Candidate:
    """The candidate with its acceptance corrected by its item's observed outcomes: the
    mean of the Beta posterior whose prior is centred on the model's acceptance and worth
    `PRIOR_ANSWERS` answers. Only offers to accept (a tip, a tariff switch) are corrected;
    advice to stay on one's tariff is no offer, and the other kinds' probability is a risk."""
    if candidate.kind not in EXPLORED_KINDS or not worth_pushing(candidate):
        return candidate
    shown, accepted = observed.get((candidate.kind, candidate.item_id), (0, 0))
    if not shown:
        return candidate
    posterior = (PRIOR_ANSWERS * candidate.probability + accepted) / (PRIOR_ANSWERS + shown)
    return replace(candidate, probability=posterior)


def rank(
    candidates: Sequence[Candidate], exploration: Exploration | None = None, key: str = ""
) -> list[Ranked]:
    """Best expected value first; ties keep the order the candidates were made in.

    When `exploration` explores the answer `key`, tariffs and tips are ordered by their
    saving times a Thompson draw of their acceptance (see `Exploration`); every answer
    still reports the models' expected value.
    """
    ranked = [Ranked(c, round(expected_value(c), 2), round(confidence(c), 3)) for c in candidates]
    if exploration is None or not exploration.explores(key):
        return sorted(ranked, key=lambda r: -r.expected_value)
    draws = exploration.draw(key, [(c.kind, c.item_id) for c in candidates])
    order = [
        max(c.saving_cny or 0.0, 0.0) * drawn if c.kind in EXPLORED_KINDS else r.expected_value
        for c, r, drawn in zip(candidates, ranked, draws, strict=True)
    ]
    return [r for _, r in sorted(zip(order, ranked, strict=True), key=lambda pair: -pair[0])]
