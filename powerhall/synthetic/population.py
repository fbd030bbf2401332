"""Who the customers are: halls, segments, appliances and hidden behavioural traits.

Everything here is drawn once per customer and never shown in the contract tables except
through its effects (consumption, events, outcomes); `truth.py` writes it out for
evaluation. Rates and shares are rounded from public figures where such figures exist
(segment mix, household consumption, EV and electric-heating adoption) and are otherwise
assumptions chosen to give the models a signal of realistic strength.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from powerhall.contract import Region, Segment
from powerhall.synthetic.load_shapes import PROFILES, SEGMENT_PROFILES
from powerhall.synthetic.streams import CustomerStreams, shared_rng
from powerhall.synthetic.timeline import Timeline
from powerhall.synthetic.weather import REGIONS

SEGMENTS: Final = tuple(Segment)
SEGMENT_SHARES: Final = np.array([0.85, 0.12, 0.03])
RESIDENTIAL, COMMERCIAL, INDUSTRIAL = range(3)


@dataclass(frozen=True)
class RegionSpec:
    code: str  # hall id prefix
    province_code: str  # first digits of account numbers
    halls: int
    share: float
    electric_heating_share: float  # households heating with electricity (heat pumps, 煤改电)


REGION_SPECS: Final[dict[Region, RegionSpec]] = {
    Region.SHANGHAI: RegionSpec("SH", "31", 6, 0.30, 0.40),
    Region.ZHEJIANG: RegionSpec("ZJ", "33", 8, 0.25, 0.40),
    Region.JIANGSU: RegionSpec("JS", "32", 8, 0.25, 0.35),
    Region.BEIJING: RegionSpec("BJ", "11", 6, 0.20, 0.15),
}

_MOBILE_PREFIXES: Final = np.array(
    [130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 158, 159, 186, 187, 188, 189]
)
_CAPACITY_SIZES_KVA: Final = np.array(
    [
        30,
        50,
        80,
        100,
        125,
        160,
        200,
        250,
        315,
        400,
        500,
        630,
        800,
        1000,
        1250,
        1600,
        2000,
        2500,
        3150,
        4000,
        5000,
        6300,
        8000,
        10000,
        12500,
        16000,
        20000,
        25000,
        31500,
        40000,
        50000,
        63000,
        80000,
        100000,
    ],
    dtype=float,
)
"""Standard distribution-transformer ratings (GB/T 6451 series)."""


@dataclass(frozen=True)
class Halls:
    """Business halls and the grid area each serves; shared by every chunk."""

    hall_id: np.ndarray  # (H,) str
    region: np.ndarray  # (H,) index into REGIONS
    weight: np.ndarray  # (H,) share of its region's customers
    mean_wait_minutes: np.ndarray  # (H,) typical queue at the counter
    outages_per_year: np.ndarray  # (H,) unplanned faults in the area
    planned_outages_per_year: np.ndarray  # (H,)
    storm_sensitivity: np.ndarray  # (H,) chance that a storm day cuts the area

    @property
    def n(self) -> int:
        return len(self.hall_id)


def draw_halls(seed: int) -> Halls:
    rng = shared_rng(seed, "halls")
    ids, regions, weights = [], [], []
    for r, region in enumerate(REGIONS):
        spec = REGION_SPECS[region]
        ids += [f"{spec.code}-H{k:02d}" for k in range(1, spec.halls + 1)]
        regions += [r] * spec.halls
        weights.append(rng.dirichlet(np.full(spec.halls, 4.0)))
    n = len(ids)
    long_queue = rng.random(n) < 0.3
    weak_grid = rng.random(n) < 0.25
    return Halls(
        hall_id=np.array(ids, dtype=object),
        region=np.array(regions),
        weight=np.concatenate(weights),
        mean_wait_minutes=np.exp(rng.normal(np.log(np.where(long_queue, 30.0, 9.0)), 0.25)),
        outages_per_year=np.exp(rng.normal(np.log(np.where(weak_grid, 6.0, 1.5)), 0.3)),
        planned_outages_per_year=rng.uniform(0.5, 1.5, n),
        storm_sensitivity=np.clip(rng.uniform(0.1, 0.35, n) * np.where(weak_grid, 2.0, 1.0), 0, 1),
    )


@dataclass(frozen=True)
class Population:
    """One chunk of customers: identity, appliances and hidden traits, one entry each."""

    index: np.ndarray  # global customer number, from 0
    customer_id: np.ndarray
    account_no: np.ndarray
    phone: np.ndarray
    segment: np.ndarray  # index into SEGMENTS
    region: np.ndarray  # index into REGIONS
    hall: np.ndarray  # index into Halls
    profile: np.ndarray  # index into PROFILES
    created_day: np.ndarray  # day index of the contract start; negative: before the window
    created_hour: np.ndarray
    kwh_per_day: np.ndarray  # base load before appliances, weather and trend
    growth_per_year: np.ndarray
    ac_kwh_per_degree: np.ndarray  # per degree-day above the cooling threshold; 0: none
    heating_kwh_per_degree: np.ndarray  # per degree-day below the heating threshold; 0: none
    has_ev: np.ndarray
    ev_valley_charging: np.ndarray  # charges after the valley starts (timer or habit)
    ev_sessions_per_week: np.ndarray
    has_water_heater: np.ndarray
    water_heater_timer: np.ndarray
    spring_festival_depth: np.ndarray  # share of load that stops at the Spring Festival
    has_app: np.ndarray
    push_consent: np.ndarray
    price_sensitivity: np.ndarray  # 0-1: weight given to a yuan saving
    responsiveness: np.ndarray  # 0-1: openness to any suggestion
    complaint_proneness: np.ndarray  # multiplier of the complaint hazard, mean 1
    late_payment: np.ndarray  # chance that a bill is paid after its due date
    logins_per_month: np.ndarray  # app users only
    visits_per_year: np.ndarray
    calls_per_year: np.ndarray
    missing_hour_rate: np.ndarray  # meter communication quality
    gap_day_rate: np.ndarray
    estimated_day_rate: np.ndarray
    meter_faults_per_year: np.ndarray

    @property
    def n(self) -> int:
        return len(self.index)

    @property
    def business(self) -> np.ndarray:
        return self.segment != RESIDENTIAL


def _segment_values(segment: np.ndarray, values: tuple[float, float, float]) -> np.ndarray:
    return np.asarray(values)[segment]


def _identity(
    index: np.ndarray, region: np.ndarray, digits: np.ndarray, prefix: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    codes = np.array([REGION_SPECS[r].province_code for r in REGIONS], dtype=object)
    customer_id = np.array([f"C{i + 1:08d}" for i in index], dtype=object)
    account_no = np.array([f"{codes[r]}{i + 1:08d}" for r, i in zip(region, index, strict=True)])
    phone = np.array([f"{p}{d:08d}" for p, d in zip(prefix, digits, strict=True)], dtype=object)
    return customer_id, account_no.astype(object), phone


def draw_population(
    streams: CustomerStreams, first_index: int, halls: Halls, timeline: Timeline
) -> Population:
    """Customers ``first_index ... first_index + streams.n - 1``."""
    n = streams.n
    index = np.arange(first_index, first_index + n)
    segment = streams.choice(3, SEGMENT_SHARES)
    region_shares = np.array([REGION_SPECS[r].share for r in REGIONS])
    region = streams.choice(len(REGIONS), region_shares)
    hall_u = streams.uniform()
    hall = np.empty(n, dtype=np.int64)
    for r in range(len(REGIONS)):
        in_region = np.flatnonzero(halls.region == r)
        cumulative = np.cumsum(halls.weight[in_region])
        rows = region == r
        picks = np.searchsorted(cumulative, hall_u[rows] * cumulative[-1])
        hall[rows] = in_region[np.minimum(picks, len(in_region) - 1)]

    profile_u = streams.uniform()
    profile = np.empty(n, dtype=np.int64)
    for s, seg in enumerate(SEGMENTS):
        names, shares = zip(*SEGMENT_PROFILES[seg].items(), strict=True)
        cumulative = np.cumsum(shares) / np.sum(shares)
        rows = segment == s
        choice = np.minimum(np.searchsorted(cumulative, profile_u[rows]), len(names) - 1)
        profile[rows] = np.array([PROFILES.index(name) for name in names])[choice]

    new_in_window = streams.uniform() < 0.07
    created_day = np.where(
        new_in_window,
        (streams.uniform() * 0.8 * timeline.days).astype(np.int64),
        -streams.integers(30, 15 * 365),
    )
    created_hour = 9 + 8 * streams.uniform()

    residential = segment == RESIDENTIAL
    median_kwh = _segment_values(segment, (5.2, 180.0, 6000.0))
    spread = _segment_values(segment, (0.45, 0.9, 0.9))
    kwh_per_day = median_kwh * np.exp(spread * streams.normal())
    growth = (
        _segment_values(segment, (0.01, 0.02, 0.02))
        + _segment_values(segment, (0.04, 0.10, 0.12)) * streams.normal()
    )

    has_ac = streams.uniform() < np.where(region == REGIONS.index(Region.BEIJING), 0.8, 0.92)
    ac_scale = np.where(residential, 0.7, kwh_per_day * _segment_values(segment, (0, 0.025, 0.005)))
    ac = has_ac * ac_scale * np.exp(0.4 * streams.normal())
    heating_share = np.array([REGION_SPECS[r].electric_heating_share for r in REGIONS])[region]
    has_heating = streams.uniform() < np.where(residential, heating_share, 0.3)
    heat_scale = np.where(
        residential, 0.6, kwh_per_day * _segment_values(segment, (0, 0.015, 0.003))
    )
    heating = has_heating * heat_scale * np.exp(0.4 * streams.normal())

    price_sensitivity = streams.beta(2.0, 3.0)
    has_ev = residential & (streams.uniform() < 0.12)
    ev_valley = has_ev & (streams.uniform() < 0.2 + 0.5 * price_sensitivity)
    ev_sessions = 2.0 + 3.0 * streams.uniform()
    has_water_heater = residential & (streams.uniform() < 0.45)
    water_heater_timer = has_water_heater & (streams.uniform() < 0.3)
    sf_low = _segment_values(segment, (0.0, 0.15, 0.4))
    sf_high = _segment_values(segment, (0.0, 0.45, 0.8))
    sf_depth = sf_low + (sf_high - sf_low) * streams.uniform()

    has_app = streams.uniform() < _segment_values(segment, (0.55, 0.5, 0.4))
    push_consent = has_app & (streams.uniform() < 0.65)
    proneness = np.exp(0.9 * streams.normal() - 0.405)  # mean 1
    digits = streams.integers(0, 100_000_000)
    prefix = _MOBILE_PREFIXES[streams.integers(0, len(_MOBILE_PREFIXES))]
    customer_id, account_no, phone = _identity(index, region, digits, prefix)
    return Population(
        index=index,
        customer_id=customer_id,
        account_no=account_no,
        phone=phone,
        segment=segment,
        region=region,
        hall=hall,
        profile=profile,
        created_day=created_day,
        created_hour=created_hour,
        kwh_per_day=kwh_per_day,
        growth_per_year=growth,
        ac_kwh_per_degree=ac,
        heating_kwh_per_degree=heating,
        has_ev=has_ev,
        ev_valley_charging=ev_valley,
        ev_sessions_per_week=np.where(has_ev, ev_sessions, 0.0),
        has_water_heater=has_water_heater,
        water_heater_timer=water_heater_timer,
        spring_festival_depth=sf_depth,
        has_app=has_app,
        push_consent=push_consent,
        price_sensitivity=price_sensitivity,
        responsiveness=streams.beta(2.0, 4.0),
        complaint_proneness=proneness,
        late_payment=streams.beta(1.2, 12.0),
        logins_per_month=has_app * np.exp(np.log(3.0) + 0.8 * streams.normal()),
        visits_per_year=_segment_values(segment, (1.0, 2.5, 2.5)) * np.exp(0.5 * streams.normal()),
        calls_per_year=_segment_values(segment, (0.8, 1.5, 1.5)) * np.exp(0.5 * streams.normal()),
        missing_hour_rate=streams.beta(1.5, 170.0),
        gap_day_rate=streams.beta(1.0, 300.0),
        estimated_day_rate=streams.beta(1.2, 80.0),
        meter_faults_per_year=_segment_values(segment, (0.02, 0.03, 0.03)),
    )


def contract_capacity_kva(peak_kw: np.ndarray, headroom: np.ndarray) -> np.ndarray:
    """The smallest standard rating that carries the peak at power factor 0.9 with headroom."""
    needed = peak_kw / 0.9 * headroom
    position = np.searchsorted(_CAPACITY_SIZES_KVA, needed)
    sizes = _CAPACITY_SIZES_KVA[np.minimum(position, len(_CAPACITY_SIZES_KVA) - 1)]
    return np.where(position < len(_CAPACITY_SIZES_KVA), sizes, np.ceil(needed / 1000) * 1000)
