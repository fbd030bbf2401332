"""The policies compared on the same customers, each a `Suggester` the campaigns call.

- `random`: a random order of the eligible suggestions;
- `most_popular`: items by the acceptance rate observed so far (the lake's history, then
  the policy's own answers; staying on one's tariff is an item of its own), the same
  order for everyone;
- `powerhall`: the engine as deployed at the start (its champions, batch scores and
  exploration evidence of round 0), never retrained;
- `powerhall_retrained`: the same engine, with the nightly pipeline after every round;
- `oracle`: the suggestions by their true acceptance, the hidden truth that answers them:
  the best acceptance an order of the same suggestions could expect.

The baselines and the oracle order every eligible suggestion: all the tips the catalogue
finds eligible on the profile (not only the three the ranker wrote) and the tariff advice.
Everything else, the candidates' safeguards, the contact policy and the campaign's
limits, is the engine's own for every policy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from features.online import Profile
from powerhall.contract import SuggestionKind
from serving.suggestions import Answer, ContactHistory, CustomerRecord, Suggester
from serving.suggestions.model import Channel
from serving.suggestions.ranking import Arm, Candidate, Ranked, rank
from simulation.truth import Truth, uniform

RANDOM: Final = "random"
MOST_POPULAR: Final = "most_popular"
POWERHALL: Final = "powerhall"
RETRAINED: Final = "powerhall_retrained"
ORACLE: Final = "oracle"
POLICIES: Final = (RANDOM, MOST_POPULAR, POWERHALL, RETRAINED, ORACLE)
"""In the order tables and plots show them."""

Score = Callable[[Candidate, CustomerRecord, datetime], float]
"""A candidate's place for a customer at a time: higher first."""


class Reranked(Suggester):
    """The engine with another order of every eligible suggestion (no ranker, no
    exploration): the baselines' and the oracle's suggester."""

    def __init__(self, engine: Suggester, score: Score) -> None:
        super().__init__(
            catalogue=engine.catalogue,
            policy=engine.policy,
            timezone=str(engine.zone),
            defaults=engine.defaults,
            champions=engine.champions,
        )
        self.score = score

    def suggest(
        self,
        customer: CustomerRecord,
        profile: Profile | None,
        history: ContactHistory,
        **options: Any,
    ) -> Answer:
        """The engine's answer with the ranker's tips left out of the profile, so that the
        catalogue's every eligible tip is a candidate."""
        if profile is not None and profile.found:
            profile = replace(profile, features={**profile.features, "top_tips": None})
        return super().suggest(customer, profile, history, **options)

    def rank(
        self, found: Sequence[Candidate], *, customer: CustomerRecord, now: datetime
    ) -> list[Ranked]:
        """By `score`; ties keep the engine's order (expected value)."""
        return sorted(rank(found), key=lambda r: -self.score(r.candidate, customer, now))


def random_order(seed: int) -> Score:
    """A fresh random order per customer and campaign."""
    return lambda c, customer, now: uniform(
        seed, "random", customer.customer_id, now.isoformat(), c.kind, c.item_id
    )


STAY: Final = (str(SuggestionKind.TARIFF), "stay")
"""The advice to stay on the current tariff, one item for everyone: its item id is the
customer's own tariff, which would otherwise count as an offer to switch to that tariff."""


def arm(kind: str, item_id: str, tariff_id: str) -> Arm:
    """The item a suggestion to a customer on `tariff_id` counts under."""
    return STAY if kind == SuggestionKind.TARIFF and item_id == tariff_id else (kind, item_id)


class Popularity:
    """Each item's acceptance rate so far; an item never shown gets the overall rate."""

    def __init__(self, observed: Mapping[Arm, tuple[int, int]]) -> None:
        self.observed: dict[Arm, tuple[int, int]] = dict(observed)

    def add(self, item: Arm, accepted: bool) -> None:
        shown, taken = self.observed.get(item, (0, 0))
        self.observed[item] = (shown + 1, taken + accepted)

    def score(self, candidate: Candidate, customer: CustomerRecord, now: datetime) -> float:
        item = arm(candidate.kind, candidate.item_id, customer.tariff_id)
        shown, taken = self.observed.get(item, (0, 0))
        if shown:
            return taken / shown
        total = sum(n for n, _ in self.observed.values())
        return sum(a for _, a in self.observed.values()) / total if total else 0.0


def oracle_order(truth: Truth, channel: Channel) -> Score:
    """The true acceptance of each suggestion on `channel`."""
    return lambda c, customer, now: (
        truth.respond(customer.customer_id, c.kind, c.item_id, channel, now).p_accept
    )
