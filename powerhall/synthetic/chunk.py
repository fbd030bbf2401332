"""One chunk of customers, simulated end to end, in the order causes come before effects.

population -> readings (weather, outages, meter faults) -> bills under every eligible
tariff -> initial tariff and past offers (which may switch it) -> the bills received ->
tips shown -> service events and complaints -> churn, which closes contracts and cuts
everything after the close. Everything shared by all chunks lives in `World`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from powerhall.synthetic.billing import (
    Bills,
    MeterData,
    TariffOptions,
    bill_options,
    choose_initial_tariff,
    monthly_bills,
)
from powerhall.synthetic.churn import Churn, simulate_churn
from powerhall.synthetic.events import ServiceHistory, simulate_service
from powerhall.synthetic.load_shapes import shapes_for
from powerhall.synthetic.offers import APP, COUNTER, Offers, simulate_offers, trailing_saving
from powerhall.synthetic.outages import Incidents, draw_hits, simulate_incidents
from powerhall.synthetic.population import Halls, Population, draw_halls, draw_population
from powerhall.synthetic.readings import Readings, simulate_readings
from powerhall.synthetic.streams import CustomerStreams
from powerhall.synthetic.timeline import Timeline
from powerhall.synthetic.tips import (
    TipShows,
    Usage,
    simulate_tip_shows,
    tip_acceptance,
    tip_benefits,
)
from powerhall.synthetic.weather import Weather, simulate_weather
from powerhall.tariffs import TariffCatalogue


@dataclass(frozen=True)
class World:
    """What every chunk shares: the window, halls, weather, grid incidents, tariffs."""

    seed: int
    timeline: Timeline
    halls: Halls
    weather: Weather
    incidents: Incidents
    shapes: np.ndarray
    catalogue: TariffCatalogue


def build_world(seed: int, days: int, end: dt.date, catalogue: TariffCatalogue) -> World:
    timeline = Timeline(end=end, days=days)
    halls = draw_halls(seed)
    weather = simulate_weather(seed, timeline)
    incidents = simulate_incidents(seed, halls, weather, timeline)
    return World(seed, timeline, halls, weather, incidents, shapes_for(timeline), catalogue)


@dataclass(frozen=True)
class Chunk:
    """Every simulated fact about customers ``[start, stop)``."""

    world: World
    pop: Population
    readings: Readings
    meter: MeterData
    options: TariffOptions
    initial_option: np.ndarray
    in_force: np.ndarray  # (n, months) option in force
    offers: Offers
    bills: Bills
    usage: Usage
    tip_benefit: np.ndarray  # (n, tips)
    tip_p_counter: np.ndarray
    tip_p_app: np.ndarray
    tips: TipShows
    service: ServiceHistory
    churn: Churn
    last_day: np.ndarray  # (n,) last day with a contract (window's last day if still open)

    @property
    def timeline(self) -> Timeline:
        return self.world.timeline


def _usage(
    world: World,
    pop: Population,
    readings: Readings,
    options: TariffOptions,
    in_force: np.ndarray,
    bills: Bills,
) -> Usage:
    n, months = pop.n, len(world.timeline.periods)
    billed = np.bincount(bills.customer, minlength=n)
    per_year = np.where(billed > 0, 12 / np.maximum(billed, 1), 0.0)
    annual_kwh = np.bincount(bills.customer, bills.kwh, minlength=n) * per_year
    annual_cost = np.bincount(bills.customer, bills.amount_cny, minlength=n) * per_year
    final = in_force[:, -1]
    final_id = options.tariff_id[np.arange(n), final]
    time_of_use = np.array([world.catalogue.get(t).is_time_of_use for t in final_id])
    rows = np.arange(n)
    month = np.full(n, months)
    best = np.zeros(n)
    for k in range(options.tariff_id.shape[1]):
        other = np.full(n, k)
        saving, _ = trailing_saving(options, rows, final, other, month)
        usable = (k < options.n_options) & (k != final)
        best = np.where(usable, np.maximum(best, saving), best)
    return Usage(annual_kwh, annual_cost, time_of_use, readings.appliance_kwh, best)


def _counter_contacts(offers: Offers, tips: TipShows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    at_counter_offer = offers.channel == COUNTER
    at_counter_tip = tips.channel == COUNTER
    customer = np.concatenate([offers.customer[at_counter_offer], tips.customer[at_counter_tip]])
    day = np.concatenate([offers.day[at_counter_offer], tips.day[at_counter_tip]])
    hour = np.concatenate([offers.hour[at_counter_offer], tips.hour[at_counter_tip]])
    order = np.lexsort((hour, day, customer))
    return customer[order], day[order], hour[order]


def simulate_chunk(world: World, start: int, stop: int) -> Chunk:
    timeline = world.timeline

    def streams(purpose: str) -> CustomerStreams:
        return CustomerStreams(world.seed, purpose, start, stop)

    pop = draw_population(streams("population"), start, world.halls, timeline)
    hits = draw_hits(world.incidents, pop, streams("outages"))
    readings = simulate_readings(
        pop, timeline, world.weather, world.shapes, world.incidents, hits, streams("readings")
    )
    active = np.arange(timeline.days)[None, :] >= pop.created_day[:, None]
    meter = MeterData(
        kwh=np.round(readings.kwh.astype(np.float64), 3),
        max_demand_kw=np.round(readings.max_demand_kw.astype(np.float64), 3),
        estimated=readings.estimated,
        active=active,
    )
    options = bill_options(pop, meter, readings.capacity_kva, timeline, world.catalogue)
    initial = choose_initial_tariff(options, pop, streams("tariff-choice"))
    offers, in_force = simulate_offers(options, initial, pop, timeline, streams("offers"))
    bills = monthly_bills(options, in_force, meter, pop, timeline, streams("bills"))
    usage = _usage(world, pop, readings, options, in_force, bills)
    benefit = tip_benefits(pop, usage)
    p_counter = tip_acceptance(pop, benefit, usage, COUNTER)
    p_app = tip_acceptance(pop, benefit, usage, APP)
    tips = simulate_tip_shows(pop, p_counter, p_app, timeline, streams("tips"))
    service = simulate_service(
        pop,
        world.halls,
        timeline,
        world.incidents,
        hits,
        meter,
        readings.fault_day,
        bills,
        _counter_contacts(offers, tips),
        streams("service"),
    )
    churn = simulate_churn(pop, bills, service.complaints, timeline, streams("churn"))
    closed = churn.closed_month >= 0
    last_day = np.where(
        closed, timeline.month_last_day[np.maximum(churn.closed_month, 0)], timeline.days - 1
    )
    return Chunk(
        world=world,
        pop=pop,
        readings=readings,
        meter=meter,
        options=options,
        initial_option=initial,
        in_force=in_force,
        offers=offers,
        bills=bills,
        usage=usage,
        tip_benefit=benefit,
        tip_p_counter=p_counter,
        tip_p_app=p_app,
        tips=tips,
        service=service,
        churn=churn,
        last_day=last_day,
    )
