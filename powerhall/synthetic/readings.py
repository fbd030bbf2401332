"""Hourly kWh for a chunk of customers, as arrays of shape (customer, day, hour).

Consumption = standard shape x daily level (base kWh, trend, Spring Festival dip, day
noise) x hourly noise, plus weather-driven air-conditioning and electric heating, plus
scheduled loads (EV charging at 7 kW for 1-3.5 hours on some evenings or nights, electric
water heaters). Then what a real meter fleet does to it: outages read zero, a few meter
faults read zero or a runaway register before they are found, some days are estimated by
the utility (a flat day at the recent average), and about 1 % of hours never arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from powerhall.synthetic.calendar_cn import spring_festival_closure
from powerhall.synthetic.load_shapes import AC_HOME, HEAT_HOME, HVAC_BUSINESS
from powerhall.synthetic.outages import Hits, Incidents
from powerhall.synthetic.population import Population, contract_capacity_kva
from powerhall.synthetic.streams import CustomerStreams
from powerhall.synthetic.timeline import Timeline
from powerhall.synthetic.weather import Weather

COOLING_FROM_C: Final = 24.0
HEATING_BELOW_C: Final = 12.0
EV_CHARGER_KW: Final = 7.0
WATER_HEATER_KW: Final = 2.0
APPLIANCES: Final = ("ev", "air_conditioning", "electric_heating", "water_heater")


@dataclass(frozen=True)
class Readings:
    kwh: np.ndarray  # (n, days, 24) float32, NaN = missing
    estimated: np.ndarray  # (n, days) bool
    max_demand_kw: np.ndarray  # (n, days) float32, NaN for households and empty days
    capacity_kva: np.ndarray  # (n,) NaN for households
    fault_day: np.ndarray  # (n,) day a meter fault was found and the meter replaced; -1
    fault_from_day: np.ndarray  # (n,) first day of wrong readings; -1
    appliance_kwh: dict[str, np.ndarray]  # per customer, kWh per active year


def _noise(streams: CustomerStreams, sd: np.ndarray, *shape: int) -> np.ndarray:
    """Mean-one lognormal noise with a per-customer spread."""
    z = streams.normal(*shape, dtype=np.float32)
    sd = sd.reshape(-1, *([1] * len(shape))).astype(np.float32)
    return np.exp(sd * z - sd * sd / 2)


def _scheduled(
    flat: np.ndarray,
    streams: CustomerStreams,
    owners: np.ndarray,
    chance_per_day: np.ndarray,
    start_hours: np.ndarray,
    duration_h: tuple[float, float],
    kw: float,
) -> np.ndarray:
    """Add sessions of a scheduled load to `flat` (n, days*24); return kWh per customer.

    `start_hours` (n, k) lists each customer's usual start hours; sessions of one day never
    reach the next day's sessions, so hours of one session step never collide.
    """
    n, hours = flat.shape
    days = hours // 24
    on = streams.uniform(days) < chance_per_day[:, None]
    pick = streams.integers(0, start_hours.shape[1], days)
    duration = duration_h[0] + (duration_h[1] - duration_h[0]) * streams.uniform(days)
    rows = np.flatnonzero(owners)
    on, pick, duration = on[rows], pick[rows], duration[rows]
    start = np.take_along_axis(start_hours[rows], pick, axis=1) + 24 * np.arange(days)
    total = np.zeros(n)
    row_grid = np.broadcast_to(rows[:, None], on.shape)
    for step in range(int(np.ceil(duration_h[1]))):
        energy = kw * np.clip(duration - step, 0.0, 1.0) * on
        position = start + step
        inside = (energy > 0) & (position < hours)
        flat[row_grid[inside], position[inside]] += energy[inside]
        np.add.at(total, row_grid[inside], energy[inside])
    return total


def simulate_readings(
    population: Population,
    timeline: Timeline,
    weather: Weather,
    shapes: np.ndarray,
    incidents: Incidents,
    hits: Hits,
    streams: CustomerStreams,
) -> Readings:
    pop = population
    n, days = pop.n, timeline.days
    business = pop.business
    years = (np.arange(days, dtype=np.float32) - days) / 365.25
    trend = (1 + pop.growth_per_year[:, None]).astype(np.float32) ** years
    closure = spring_festival_closure(timeline.dates).astype(np.float32)
    festival = 1 - pop.spring_festival_depth[:, None].astype(np.float32) * closure
    day_sd = np.where(business, 0.07, 0.15)
    level = pop.kwh_per_day[:, None].astype(np.float32) * trend * festival
    level *= _noise(streams, day_sd, days)

    kwh = shapes[pop.profile]  # fancy indexing copies
    activity = kwh.sum(axis=2)  # ~1 on working days, less on rest days
    kwh *= level[:, :, None]
    kwh *= _noise(streams, np.where(business, 0.08, 0.3), days, 24)

    temperature = weather.temperature_c[pop.region]
    weather_noise = _noise(streams, np.full(n, 0.25), days)
    cooling = np.maximum(temperature - COOLING_FROM_C, 0) * weather_noise
    heating = np.maximum(HEATING_BELOW_C - temperature, 0) * weather_noise
    cooling_kwh = pop.ac_kwh_per_degree[:, None].astype(np.float32) * cooling
    heating_kwh = pop.heating_kwh_per_degree[:, None].astype(np.float32) * heating
    cooling_kwh = np.where(business[:, None], cooling_kwh * activity, cooling_kwh)
    heating_kwh = np.where(business[:, None], heating_kwh * activity, heating_kwh)
    ac_curve = np.where(business[:, None], HVAC_BUSINESS, AC_HOME)
    heat_curve = np.where(business[:, None], HVAC_BUSINESS, HEAT_HOME)
    kwh += cooling_kwh[:, :, None] * ac_curve[:, None, :]
    kwh += heating_kwh[:, :, None] * heat_curve[:, None, :]

    flat = kwh.reshape(n, days * 24)
    ev_starts = np.where(pop.ev_valley_charging[:, None], [22, 22, 23, 23], [18, 19, 20, 21])
    ev = _scheduled(
        flat,
        streams,
        pop.has_ev,
        pop.ev_sessions_per_week / 7,
        ev_starts,
        (1.0, 3.5),
        EV_CHARGER_KW,
    )
    heater_starts = np.where(pop.water_heater_timer[:, None], [23, 23, 23], [19, 20, 21])
    heater = _scheduled(
        flat,
        streams,
        pop.has_water_heater,
        np.full(n, 0.85),
        heater_starts,
        (0.4, 1.4),
        WATER_HEATER_KW,
    )

    _cut_outages(flat, incidents, hits)
    daily_max = kwh.max(axis=2)
    demand_factor = (1.03 + 0.12 * streams.uniform(days)).astype(np.float32)
    headroom = 1.05 + 0.45 * streams.uniform()
    capacity = np.where(
        business, contract_capacity_kva((daily_max * demand_factor).max(axis=1), headroom), np.nan
    )

    fault_day, fault_from = _meter_faults(kwh, pop, streams)
    estimated = _estimate_days(kwh, pop, streams)
    _drop_hours(kwh, estimated, pop, streams)
    max_demand = np.fmax.reduce(kwh, axis=2) * demand_factor
    max_demand = np.where(business[:, None], max_demand, np.nan).astype(np.float32)

    active_days = np.clip(days - np.maximum(pop.created_day, 0), 1, None)
    active = np.arange(days)[None, :] >= pop.created_day[:, None]
    per_year = 365.0 / active_days
    appliance_kwh = {
        "ev": ev * per_year,
        "air_conditioning": (cooling_kwh * active).sum(axis=1) * per_year,
        "electric_heating": (heating_kwh * active).sum(axis=1) * per_year,
        "water_heater": heater * per_year,
    }
    return Readings(kwh, estimated, max_demand, capacity, fault_day, fault_from, appliance_kwh)


def _cut_outages(flat: np.ndarray, incidents: Incidents, hits: Hits) -> None:
    first = incidents.day[hits.incident] * 24 + np.floor(incidents.start_hour[hits.incident])
    length = np.ceil(incidents.duration_h[hits.incident])
    for step in range(int(length.max(initial=0))):
        position = (first + step).astype(np.int64)
        cut = (step < length) & (position < flat.shape[1])
        flat[hits.customer[cut], position[cut]] = 0.0


def _meter_faults(
    kwh: np.ndarray, pop: Population, streams: CustomerStreams
) -> tuple[np.ndarray, np.ndarray]:
    """A stopped or runaway register, read as such until a meter_fault event replaces it."""
    days = kwh.shape[1]
    chance = 1 - np.exp(-pop.meter_faults_per_year * days / 365)
    faulty = streams.uniform() < chance
    found = streams.integers(1, max(days, 2))
    wrong_days = streams.integers(1, 7)
    runaway = streams.uniform() < 0.3
    spike_hour = streams.integers(0, 24)
    spike = 20 + 30 * streams.uniform()
    fault_day = np.where(faulty, np.minimum(found, days - 1), -1)
    fault_from = np.where(faulty, np.maximum(fault_day - wrong_days, 0), -1)
    for i in np.flatnonzero(faulty):
        if runaway[i]:
            kwh[i, fault_from[i], spike_hour[i]] *= spike[i]
        else:
            kwh[i, fault_from[i] : fault_day[i]] = 0.0
    return fault_day, fault_from


def _estimate_days(kwh: np.ndarray, pop: Population, streams: CustomerStreams) -> np.ndarray:
    """Days the utility estimated: flat hours at the last week's average daily kWh."""
    days = kwh.shape[1]
    estimated = streams.uniform(days) < pop.estimated_day_rate[:, None]
    factor = 0.85 + 0.3 * streams.uniform(days)
    totals = kwh.sum(axis=2, dtype=np.float64)
    running = np.concatenate([np.zeros((len(totals), 1)), np.cumsum(totals, axis=1)], axis=1)
    upto = np.maximum(np.arange(days), 1)  # day 0 has no past: it estimates from itself
    since = np.maximum(np.arange(days) - 7, 0)
    last_week = (running[:, upto] - running[:, since]) / (upto - since)
    rows, cols = np.nonzero(estimated)
    flat_hour = last_week[rows, cols] * factor[rows, cols] / 24
    kwh[rows, cols] = flat_hour.astype(np.float32)[:, None]
    return estimated


def _drop_hours(
    kwh: np.ndarray, estimated: np.ndarray, pop: Population, streams: CustomerStreams
) -> None:
    """Hours that never reached the head end: scattered ones and whole-afternoon gaps."""
    n, days = estimated.shape
    scattered = streams.poisson(np.broadcast_to(24 * pop.missing_hour_rate[:, None], (n, days)))
    hours = streams.each(lambda rng, rows: rng.integers(0, 24, scattered[rows].sum()))
    rows, cols = np.nonzero(scattered)
    repeat = scattered[rows, cols]
    rows, cols = np.repeat(rows, repeat), np.repeat(cols, repeat)
    keep = ~estimated[rows, cols]
    kwh[rows[keep], cols[keep], hours[keep]] = np.nan

    gap = streams.uniform(days) < pop.gap_day_rate[:, None]
    gap_start = streams.integers(0, 24, days)
    gap_length = streams.integers(4, 25, days)
    rows, cols = np.nonzero(gap & ~estimated)
    hour = np.arange(24)
    start = gap_start[rows, cols][:, None]
    mask = (hour >= start) & (hour < start + gap_length[rows, cols][:, None])
    block = kwh[rows, cols]
    block[mask] = np.nan
    kwh[rows, cols] = block
