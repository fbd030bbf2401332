"""The simulated customers' answers, from the generator's hidden truth (`truth/`).

A suggestion is accepted with the probability the generator itself would have used:

- a tip the truth prices (`tip_propensity`): its true acceptance on the channel; it saves
  the customer its true yuan a year;
- a switch to another tariff the truth bills (`tariff_bills`, the engine's bills of the
  customer's real readings under every eligible tariff): `offers.tariff_acceptance` of
  the yuan the switch would have saved over the twelve months before, the rule the
  generator's own offers follow; it saves that (possibly negative) amount a year;
- anything else (stay on the current tariff, a tip the truth does not price, and the kinds
  it knows nothing of: bill alerts, peer comparisons, retention, service recovery): worth
  no yuan in the simulated world, acted on as rarely as a tip worth nothing
  (`tips.acting_probability` with a benefit of 0). Saying more would invent a truth.

Random draws are keyed by what they decide (customer, item, campaign), not by order, so
that every policy meets the same customer in the same mood: two policies that push the
same suggestion in the same campaign get the same answer.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from powerhall.contract import SuggestionKind, Table
from powerhall.errors import PowerhallError
from powerhall.synthetic.offers import APP, COUNTER, tariff_acceptance
from powerhall.synthetic.tips import acting_probability
from powerhall.synthetic.writer import TRUTH_DIR
from serving.suggestions.model import Channel

RESPONSE_HOURS: Final[dict[str, float]] = {SuggestionKind.TARIFF: 20.0, SuggestionKind.TIP: 6.0}
"""Mean hours until an answer (exponential), as the generator's offers and tips take;
other kinds answer like tips."""
TRAILING_MONTHS: Final = 12


def uniform(*parts: object) -> float:
    """A uniform draw in [0, 1) that depends only on `parts` (stable across processes)."""
    text = "/".join(str(p) for p in parts)
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True)
class Response:
    p_accept: float
    """True probability that the customer acts on the suggestion."""
    benefit_cny_year: float
    """Yuan a year the customer saves by acting on it (0 where the truth prices nothing)."""
    priced: bool
    """Whether the truth prices it (a known tip or tariff switch)."""


class Truth:
    """The hidden truth of a generated world, asked one suggestion at a time."""

    def __init__(self, generated: Path, timezone: str) -> None:
        truth = generated / TRUTH_DIR
        if not truth.is_dir():
            raise PowerhallError(f"{truth}: no hidden truth (generate the world with powerhall)")
        self.zone = ZoneInfo(timezone)
        traits = pd.read_parquet(
            truth / "customers", columns=["customer_id", "responsiveness", "price_sensitivity"]
        )
        self._traits = {
            c: (float(r), float(s))
            for c, r, s in zip(
                traits["customer_id"],
                traits["responsiveness"],
                traits["price_sensitivity"],
                strict=True,
            )
        }
        tips = pd.read_parquet(truth / "tip_propensity")
        self._tips = {
            (c, t): (float(b), float(pc), float(pa_))
            for c, t, b, pc, pa_ in zip(
                tips["customer_id"],
                tips["tip_id"],
                tips["benefit_cny_year"],
                tips["p_accept_counter"],
                tips["p_accept_app"],
                strict=True,
            )
        }
        bills = pd.read_parquet(
            truth / "tariff_bills", columns=["customer_id", "tariff_id", "period", "amount_cny"]
        )
        self._amounts = {
            (c, t, p): float(a)
            for c, t, p, a in zip(
                bills["customer_id"],
                bills["tariff_id"],
                bills["period"],
                bills["amount_cny"],
                strict=True,
            )
            if not math.isnan(a)
        }
        in_force = pd.read_parquet(
            generated / Table.BILLS.value, columns=["customer_id", "period", "tariff_id"]
        ).sort_values(["customer_id", "period"])
        self._in_force: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
        for c, p, t in zip(
            in_force["customer_id"], in_force["period"], in_force["tariff_id"], strict=True
        ):
            periods, tariffs = self._in_force[c]
            periods.append(p)
            tariffs.append(t)
        self._switch = lru_cache(maxsize=None)(self._switch_uncached)

    def period(self, at: datetime) -> str:
        return at.astimezone(self.zone).strftime("%Y-%m")

    def tariff_at(self, customer_id: str, at: datetime) -> str | None:
        """The tariff the customer is billed on in the month of `at` (else the latest before)."""
        periods, tariffs = self._in_force.get(customer_id, ([], []))
        i = bisect.bisect_right(periods, self.period(at))
        return tariffs[i - 1] if i else None

    def respond(
        self, customer_id: str, kind: str, item_id: str, channel: Channel, at: datetime
    ) -> Response:
        """How the customer would take suggestion (kind, item) shown on `channel` at `at`."""
        if customer_id not in self._traits:
            raise PowerhallError(f"customer {customer_id} is not in the hidden truth")
        code = APP if channel is Channel.APP else COUNTER
        if kind == SuggestionKind.TIP and (customer_id, item_id) in self._tips:
            benefit, p_counter, p_app = self._tips[customer_id, item_id]
            return Response(p_app if code == APP else p_counter, benefit, True)
        if kind == SuggestionKind.TARIFF:
            switch = self._switch(customer_id, item_id, self.period(at))
            if switch is not None:
                saving, share = switch
                responsiveness, sensitivity = self._traits[customer_id]
                p = tariff_acceptance(
                    np.array([responsiveness]),
                    np.array([sensitivity]),
                    np.array([share]),
                    np.array([code]),
                )
                return Response(float(p[0]), saving, True)
        return Response(self.unpriced(customer_id, channel), 0.0, False)

    def unpriced(self, customer_id: str, channel: Channel) -> float:
        """The customer's acceptance of a suggestion worth nothing to them."""
        responsiveness, sensitivity = self._traits[customer_id]
        code = APP if channel is Channel.APP else COUNTER
        p = acting_probability(
            np.array([responsiveness]), np.array([sensitivity]), np.zeros(1), np.ones(1), code
        )
        return float(p[0])

    def _switch_uncached(
        self, customer_id: str, tariff_id: str, period: str
    ) -> tuple[float, float] | None:
        """(yuan a year saved, share of the bill) by moving to `tariff_id` over the twelve
        months before `period`, scaled up from the months both bills know, as the
        generator's `offers.trailing_saving`; None when it is no switch the truth bills."""
        month = pd.Period(period, freq="M")
        current = self.tariff_at(customer_id, month.start_time.tz_localize(self.zone))
        if current is None or current == tariff_id:
            return None
        mine = theirs = 0.0
        months = 0
        for back in range(1, TRAILING_MONTHS + 1):
            key = str(month - back)
            a = self._amounts.get((customer_id, current, key))
            b = self._amounts.get((customer_id, tariff_id, key))
            if a is not None and b is not None:
                mine, theirs, months = mine + a, theirs + b, months + 1
        if not months:
            return None
        scale = TRAILING_MONTHS / months
        saving, cost = (mine - theirs) * scale, mine * scale
        return saving, (saving / cost if cost > 0 else 0.0)


def response_delay_hours(kind: str, *key: object) -> float:
    """Hours until the customer answers, exponential with the kind's mean."""
    mean = RESPONSE_HOURS.get(kind, RESPONSE_HOURS[SuggestionKind.TIP])
    return -mean * math.log(1 - uniform("delay", *key))
