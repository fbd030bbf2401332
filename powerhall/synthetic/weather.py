"""Daily mean temperature and storm days per region.

Climate normals are rounded from the regions' capitals (Shanghai, Hangzhou, Nanjing,
Beijing): an annual mean, a seasonal amplitude peaking in late July, plus persistent
day-to-day anomalies (AR(1)). Storms (typhoons and thunderstorms) cluster in July to
September; they drive grid outages and so, through the truth, complaints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from powerhall.contract import Region
from powerhall.synthetic.recurrence import decayed_sum
from powerhall.synthetic.streams import shared_rng
from powerhall.synthetic.timeline import Timeline

REGIONS: Final = tuple(Region)

_CLIMATE: Final[dict[Region, tuple[float, float]]] = {
    # annual mean °C, half the July-January difference
    Region.SHANGHAI: (17.0, 11.5),
    Region.ZHEJIANG: (17.5, 12.0),
    Region.JIANGSU: (16.0, 12.5),
    Region.BEIJING: (12.5, 15.5),
}
_WARMEST_DAY: Final = 205
_ANOMALY_PERSISTENCE: Final = 0.75
_ANOMALY_SD: Final = 1.8
_STORM_BASE: Final = 0.005
_STORM_SUMMER: Final = 0.12


@dataclass(frozen=True)
class Weather:
    temperature_c: np.ndarray  # (regions, days) daily mean
    storm: np.ndarray  # (regions, days) bool


def seasonal_cycle(day_of_year: np.ndarray) -> np.ndarray:
    """+1 at the warmest day of the year, -1 half a year later."""
    return np.cos(2 * np.pi * (day_of_year - _WARMEST_DAY) / 365.25)


def simulate_weather(seed: int, timeline: Timeline) -> Weather:
    rng = shared_rng(seed, "weather")
    cycle = seasonal_cycle(timeline.day_of_year)
    shocks = rng.normal(0.0, _ANOMALY_SD, (len(REGIONS), timeline.days))
    anomaly = decayed_sum(shocks, _ANOMALY_PERSISTENCE)
    normals = np.array([_CLIMATE[r] for r in REGIONS])
    temperature = normals[:, :1] + normals[:, 1:] * cycle + anomaly
    storm_season = np.clip(np.cos(2 * np.pi * (timeline.day_of_year - 225) / 365.25), 0, 1) ** 3
    storm_p = _STORM_BASE + _STORM_SUMMER * storm_season
    storm = rng.random((len(REGIONS), timeline.days)) < storm_p
    return Weather(temperature.astype(np.float32), storm)
