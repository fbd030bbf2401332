"""Past tariff offers and how customers answered them.

Before powerhall, offers were made at random (a random other eligible tariff, at the
counter or in the app), which is what makes them usable to learn from. A customer weighs
the yuan it would have saved over the last twelve months, computed by the tariff engine
(see `billing.py`), by its price sensitivity, plus its general openness to suggestions;
the resulting probability is the truth an acceptance model is measured against. Accepting
switches the tariff from the next month on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from powerhall.synthetic.billing import TariffOptions
from powerhall.synthetic.population import Population
from powerhall.synthetic.streams import CustomerStreams
from powerhall.synthetic.timeline import Timeline

MAX_OFFERS: Final = 3
OFFERS_PER_YEAR: Final = 0.6
MIN_HISTORY_DAYS: Final = 60
COUNTER, APP = 0, 1  # channel of a suggestion


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def tariff_acceptance(
    responsiveness: np.ndarray,
    price_sensitivity: np.ndarray,
    saving_share: np.ndarray,
    channel: np.ndarray,
) -> np.ndarray:
    """True probability of accepting a tariff that saves `saving_share` of the bill."""
    saving = np.clip(saving_share, -0.5, 0.5)
    return sigmoid(
        -2.4 + 3.0 * responsiveness + 30.0 * price_sensitivity * saving + 0.4 * (channel == COUNTER)
    )


@dataclass(frozen=True)
class Offers:
    customer: np.ndarray  # (J,) row in the chunk
    day: np.ndarray
    hour: np.ndarray
    channel: np.ndarray  # COUNTER or APP
    option: np.ndarray  # offered tariff option
    current_option: np.ndarray
    saving_cny_year: np.ndarray  # engine bill difference over the last 12 months, per year
    p_accept: np.ndarray
    accepted: np.ndarray
    response: np.ndarray  # uniform draw deciding the answer, reused for its kind
    response_delay_h: np.ndarray


def trailing_saving(
    options: TariffOptions,
    customer: np.ndarray,
    current: np.ndarray,
    other: np.ndarray,
    month: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Yuan per year saved by `other` over `current` in the 12 months before `month`,
    and the current tariff's yearly cost, both scaled up from the months billed."""
    months = options.amount_cny.shape[2]
    window = np.arange(-12, 0)[None, :] + month[:, None]
    valid = window >= 0
    window = np.clip(window, 0, months - 1)
    mine = options.amount_cny[customer[:, None], current[:, None], window]
    theirs = options.amount_cny[customer[:, None], other[:, None], window]
    both = valid & ~np.isnan(mine) & ~np.isnan(theirs)
    count = both.sum(axis=1)
    scale = np.where(count > 0, 12 / np.maximum(count, 1), 0.0)
    saving = np.where(both, mine - theirs, 0).sum(axis=1) * scale
    cost = np.where(both, mine, 0).sum(axis=1) * scale
    return saving, cost


def simulate_offers(
    options: TariffOptions,
    initial: np.ndarray,
    pop: Population,
    timeline: Timeline,
    streams: CustomerStreams,
) -> tuple[Offers, np.ndarray]:
    """Offers in time order per customer, and the option in force per (customer, month)."""
    days = timeline.days
    first_day = np.maximum(pop.created_day, 0) + MIN_HISTORY_DAYS
    span = np.clip(days - first_day, 0, None)
    count = np.minimum(streams.poisson(OFFERS_PER_YEAR * span / 365), MAX_OFFERS)
    count = np.where(options.n_options >= 2, count, 0)
    offer_day = first_day[:, None] + np.sort(streams.uniform(MAX_OFFERS), axis=1) * span[:, None]
    hour = 9 + 9 * streams.uniform(MAX_OFFERS)
    item = streams.uniform(MAX_OFFERS)
    channel = np.where(pop.has_app[:, None] & (streams.uniform(MAX_OFFERS) < 0.5), APP, COUNTER)
    response = streams.uniform(MAX_OFFERS)
    delay = streams.each(lambda rng, r: rng.exponential(20.0, (r.stop - r.start, MAX_OFFERS)))

    in_force = np.repeat(initial[:, None], len(timeline.periods), axis=1)
    records = []
    for k in range(MAX_OFFERS):
        rows = np.flatnonzero(count > k)
        day = offer_day[rows, k].astype(np.int64)
        month = timeline.day_month[day]
        current = in_force[rows, month]
        others = options.n_options[rows] - 1
        offered = (current + 1 + (item[rows, k] * others).astype(np.int64)) % options.n_options[
            rows
        ]
        saving, cost = trailing_saving(options, rows, current, offered, month)
        share = np.divide(saving, cost, out=np.zeros_like(saving), where=cost > 0)
        p = tariff_acceptance(
            pop.responsiveness[rows], pop.price_sensitivity[rows], share, channel[rows, k]
        )
        accepted = response[rows, k] < p
        for i, m, o in zip(rows[accepted], month[accepted], offered[accepted], strict=True):
            in_force[i, m + 1 :] = o
        records.append(
            (
                rows,
                day,
                hour[rows, k],
                channel[rows, k],
                offered,
                current,
                saving,
                p,
                accepted,
                response[rows, k],
                delay[rows, k],
            )
        )
    columns = [np.concatenate(parts) for parts in zip(*records, strict=True)]
    order = np.lexsort((columns[1], columns[0]))
    return Offers(*(c[order] for c in columns)), in_force
