"""Grid incidents: outages that hit part of a hall's area at once.

Incidents are drawn per hall and day, shared by all chunks: planned work on weekdays,
equipment faults at the area's own rate (some areas have a weak grid), and storm damage
on the region's storm days, so outages cluster in summer and in some halls. Each customer
of the hall is then hit with the incident's share; a hit zeroes the meter's hours and
raises the customer's complaint hazard (see `events.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from powerhall.synthetic.population import Halls, Population
from powerhall.synthetic.streams import CustomerStreams, shared_rng
from powerhall.synthetic.timeline import Timeline
from powerhall.synthetic.weather import Weather

CAUSES: Final = ("planned", "equipment", "storm")
CAUSE_TEXT: Final = ("计划停电检修", "设备故障停电", "恶劣天气造成停电")
MAX_DURATION_H: Final = 16


@dataclass(frozen=True)
class Incidents:
    hall: np.ndarray  # (K,) index into Halls
    day: np.ndarray  # (K,)
    start_hour: np.ndarray  # (K,) local, fractional
    duration_h: np.ndarray  # (K,)
    cause: np.ndarray  # (K,) index into CAUSES
    share: np.ndarray  # (K,) share of the hall's customers cut off

    @property
    def n(self) -> int:
        return len(self.day)


def simulate_incidents(seed: int, halls: Halls, weather: Weather, timeline: Timeline) -> Incidents:
    rng = shared_rng(seed, "incidents")
    weekday = timeline.weekday < 5
    planned = rng.poisson(np.outer(halls.planned_outages_per_year / 365 / (5 / 7), weekday))
    equipment = rng.poisson(np.outer(halls.outages_per_year / 365, np.ones(timeline.days)))
    storm_hit = (rng.random(planned.shape) < halls.storm_sensitivity[:, None]) & weather.storm[
        halls.region
    ]
    counts = np.stack([planned, equipment, storm_hit.astype(np.int64)])  # (cause, hall, day)
    cause, hall, day = np.nonzero(counts)
    repeat = counts[cause, hall, day]
    cause, hall, day = (np.repeat(a, repeat) for a in (cause, hall, day))
    k = len(day)
    start = np.select(
        [cause == 0, cause == 1],
        [rng.uniform(8, 10, k), rng.uniform(0, 24, k)],
        rng.uniform(13, 21, k),
    )
    duration = np.select(
        [cause == 0, cause == 1],
        [rng.uniform(4, 8, k), np.exp(rng.normal(np.log(1.5), 0.7, k))],
        np.exp(rng.normal(np.log(3.0), 0.7, k)),
    )
    share = np.select(
        [cause == 0, cause == 1],
        [rng.uniform(0.1, 0.4, k), rng.uniform(0.05, 0.3, k)],
        rng.uniform(0.2, 0.8, k),
    )
    return Incidents(
        hall=hall,
        day=day,
        start_hour=np.round(start, 2),
        duration_h=np.round(np.clip(duration, 0.25, MAX_DURATION_H), 2),
        cause=cause,
        share=share,
    )


@dataclass(frozen=True)
class Hits:
    """Which customer of the chunk lost power in which incident."""

    customer: np.ndarray  # (J,) row in the chunk
    incident: np.ndarray  # (J,) index into Incidents


def draw_hits(incidents: Incidents, population: Population, streams: CustomerStreams) -> Hits:
    draws = streams.uniform(incidents.n)
    hit = (population.hall[:, None] == incidents.hall[None, :]) & (draws < incidents.share)
    customer, incident = np.nonzero(hit)
    return Hits(customer, incident)
