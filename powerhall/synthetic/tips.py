"""Energy-saving tips shown in the past, and each customer's hidden benefit from each.

A tip's yuan benefit comes from the customer's true appliances and consumption: shifting
EV charging to the valley is worth the EV's kWh times the peak-valley spread, and nothing
to a household without an EV or without a time-of-use tariff. Tips were shown at random
(before powerhall ranked them); whether a customer acted on one follows from that benefit,
its price sensitivity and its responsiveness. `propensity` gives the true acceptance of
every tip for every customer, the oracle a tips ranker is measured against.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Final

import numpy as np

from powerhall.errors import PowerhallError
from powerhall.synthetic.offers import APP, COUNTER, sigmoid
from powerhall.synthetic.population import SEGMENTS, Population
from powerhall.synthetic.streams import CustomerStreams
from powerhall.synthetic.timeline import Timeline
from powerhall.tips import load_tips

VALLEY_DISCOUNT: Final = 0.45
"""Share of the average price saved per kWh moved from peak to valley on a TOU tariff."""
TIPS_PER_YEAR: Final = 1.2
MAX_TIPS: Final = 6


TIP_IDS: Final = (
    "tip-ev-valley-charging",
    "tip-ac-26c",
    "tip-standby-power",
    "tip-water-heater-timer",
    "tip-heating-setpoint",
    "tip-led-lighting",
    "tip-laundry-valley",
    "tip-fridge-settings",
    "tip-peak-valley-shift",
    "tip-hvac-schedule",
    "tip-lighting-retrofit",
    "tip-power-factor-correction",
    "tip-demand-basis-switch",
    "tip-compressed-air-leaks",
)
"""The catalogue's tips that were shown in the past: those the hidden truth below prices.
Their segments come from the catalogue (`powerhall.tips`); the order is the index the
generated shows use."""


@cache
def _segment_menu() -> np.ndarray:
    """(segments, tips) whether a tip is meant for a segment, from the shipped catalogue."""
    catalogue = load_tips()
    if missing := [t for t in TIP_IDS if t not in catalogue]:
        raise PowerhallError(
            f"the synthetic truth prices tips missing from the catalogue: {', '.join(missing)}"
        )
    segments = [set(catalogue.get(t).segments) for t in TIP_IDS]
    menu = np.array([[s in tip for tip in segments] for s in SEGMENTS])
    menu.flags.writeable = False
    return menu


@dataclass(frozen=True)
class Usage:
    """What a customer's year looks like, from its bills and its true appliances."""

    annual_kwh: np.ndarray
    annual_cost_cny: np.ndarray
    time_of_use: np.ndarray  # on a time-of-use tariff at the window's end
    appliance_kwh: dict[str, np.ndarray]
    other_tariff_saving_cny: np.ndarray  # best yearly saving from another eligible tariff

    @property
    def price(self) -> np.ndarray:
        return np.divide(
            self.annual_cost_cny,
            self.annual_kwh,
            out=np.zeros_like(self.annual_cost_cny),
            where=self.annual_kwh > 0,
        )


def tip_benefits(pop: Population, usage: Usage) -> np.ndarray:
    """(n, tips) yuan per year each tip saves; 0 where it does not apply."""
    price = usage.price
    spread = np.where(usage.time_of_use, VALLEY_DISCOUNT * price, 0.0)
    appliances = usage.appliance_kwh
    base = np.clip(usage.annual_kwh - sum(appliances.values()), 0, None)
    ev = appliances["ev"] * ~pop.ev_valley_charging
    heater = appliances["water_heater"] * ~pop.water_heater_timer
    values = {
        "tip-ev-valley-charging": ev * spread,
        "tip-ac-26c": 0.10 * appliances["air_conditioning"] * price,
        "tip-standby-power": 0.04 * base * price,
        "tip-water-heater-timer": heater * spread,
        "tip-heating-setpoint": 0.08 * appliances["electric_heating"] * price,
        "tip-led-lighting": 0.03 * base * price,
        "tip-laundry-valley": 0.05 * base * spread,
        "tip-fridge-settings": 0.015 * base * price,
        "tip-peak-valley-shift": 0.06 * usage.annual_kwh * spread,
        "tip-hvac-schedule": 0.12 * appliances["air_conditioning"] * price,
        "tip-lighting-retrofit": 0.04 * base * price,
        "tip-power-factor-correction": 0.008 * usage.annual_cost_cny,
        "tip-demand-basis-switch": np.clip(usage.other_tariff_saving_cny, 0, None),
        "tip-compressed-air-leaks": 0.02 * base * price,
    }
    benefit = np.column_stack([values[t] for t in TIP_IDS])
    return np.where(eligible(pop), benefit, 0.0)


def eligible(pop: Population) -> np.ndarray:
    """(n, tips) whether a tip is meant for the customer's segment."""
    return _segment_menu()[pop.segment]


def tip_acceptance(pop: Population, benefit: np.ndarray, usage: Usage, channel: int) -> np.ndarray:
    """(n, tips) true probability of acting on each tip when shown on `channel`."""
    return acting_probability(
        pop.responsiveness[:, None],
        pop.price_sensitivity[:, None],
        benefit,
        usage.annual_cost_cny[:, None],
        channel,
    )


def acting_probability(
    responsiveness: np.ndarray,
    price_sensitivity: np.ndarray,
    benefit: np.ndarray,
    annual_cost_cny: np.ndarray,
    channel: int,
) -> np.ndarray:
    """True probability of acting on a suggestion worth `benefit` yuan a year to a customer
    whose year costs `annual_cost_cny`, shown on `channel` (arrays broadcast). A suggestion
    worth nothing is acted on too, rarely: the closed-loop simulation answers the kinds the
    truth does not price this way, with a benefit of 0."""
    share = np.divide(
        benefit,
        annual_cost_cny,
        out=np.zeros(np.broadcast_shapes(np.shape(benefit), np.shape(annual_cost_cny))),
        where=annual_cost_cny > 0,
    )
    z = (
        -3.0
        + 3.0 * responsiveness
        + 40.0 * price_sensitivity * np.clip(share, 0, 0.3)
        - 1.5 * (benefit <= 0)
        + (0.3 if channel == COUNTER else 0.0)
    )
    return sigmoid(z)


@dataclass(frozen=True)
class TipShows:
    customer: np.ndarray
    day: np.ndarray
    hour: np.ndarray
    channel: np.ndarray
    tip: np.ndarray  # index into TIP_IDS
    p_accept: np.ndarray
    accepted: np.ndarray
    response: np.ndarray
    response_delay_h: np.ndarray


def simulate_tip_shows(
    pop: Population,
    p_counter: np.ndarray,
    p_app: np.ndarray,
    timeline: Timeline,
    streams: CustomerStreams,
) -> TipShows:
    days = timeline.days
    first_day = np.maximum(pop.created_day, 0)
    span = np.clip(days - first_day, 0, None)
    count = np.minimum(streams.poisson(TIPS_PER_YEAR * span / 365), MAX_TIPS)
    day = first_day[:, None] + (streams.uniform(MAX_TIPS) * span[:, None]).astype(np.int64)
    hour = 9 + 12 * streams.uniform(MAX_TIPS)
    channel = np.where(pop.has_app[:, None] & (streams.uniform(MAX_TIPS) < 0.7), APP, COUNTER)
    menu = eligible(pop)
    choice = streams.uniform(MAX_TIPS)
    response = streams.uniform(MAX_TIPS)
    delay = streams.each(lambda rng, r: rng.exponential(6.0, (r.stop - r.start, MAX_TIPS)))

    customer, slot = np.nonzero(np.arange(MAX_TIPS)[None, :] < count[:, None])
    options = menu[customer]
    rank = (choice[customer, slot] * options.sum(axis=1)).astype(np.int64)
    tip = np.argmax(np.cumsum(options, axis=1) > rank[:, None], axis=1)
    shown_on = channel[customer, slot]
    p = np.where(shown_on == APP, p_app[customer, tip], p_counter[customer, tip])
    answer = response[customer, slot]
    order = np.lexsort((hour[customer, slot], day[customer, slot], customer))
    return TipShows(
        customer=customer[order],
        day=day[customer, slot][order],
        hour=hour[customer, slot][order],
        channel=shown_on[order],
        tip=tip[order],
        p_accept=p[order],
        accepted=(answer < p)[order],
        response=answer[order],
        response_delay_h=delay[customer, slot][order],
    )
