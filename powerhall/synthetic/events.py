"""Service events whose rates follow the truth, and the complaint hazard behind them.

Each bad experience (an outage, a long queue at the hall, an estimated reading, a faulty
meter, a bill well above last year's) leaves a trace that decays over a couple of weeks;
the daily complaint hazard is the customer's own proneness times a season factor times
one plus the weighted traces. Hall visits and 95598 calls rise after outages and bill
shocks; surveys score lower after bad experiences. The truth keeps the hazard of every
customer-day and the oracle probability of a complaint in the next 30 days given what
happened before that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from powerhall.contract import Channel, EventKind
from powerhall.synthetic.billing import Bills, MeterData, bill_growth
from powerhall.synthetic.outages import CAUSE_TEXT, Hits, Incidents
from powerhall.synthetic.population import Halls, Population
from powerhall.synthetic.recurrence import decayed_sum
from powerhall.synthetic.streams import CustomerStreams
from powerhall.synthetic.timeline import Timeline
from powerhall.synthetic.weather import seasonal_cycle

KINDS: Final = tuple(EventKind)
CHANNELS: Final = tuple(Channel)
LONG_WAIT_MINUTES: Final = 30.0
COMPLAINT_WINDOW_DAYS: Final = 30
BASE_COMPLAINTS_PER_DAY: Final = 0.00025
SEASON_AMPLITUDE: Final = 0.25

# driver: (weight in the hazard, decay time in days, complaint text)
DRIVERS: Final[dict[str, tuple[float, float, str]]] = {
    "outage": (6.0, 14.0, "频繁停电，影响正常生产生活"),
    "long_wait": (3.0, 14.0, "营业厅排队等候时间过长"),
    "estimated": (0.5, 20.0, "电表估抄，电量不准确"),
    "meter_fault": (6.0, 20.0, "电表故障导致电费异常"),
    "bill_shock": (4.0, 20.0, "电费较去年同期明显上涨，对账单有疑问"),
}
BASE_COMPLAINT_TEXT: Final = "对供电服务不满意"
TEXTS: Final = (
    BASE_COMPLAINT_TEXT,
    *(text for _, _, text in DRIVERS.values()),
    *CAUSE_TEXT,
    "电能表故障，已现场更换",
)


@dataclass
class EventArrays:
    customer: list[np.ndarray]
    day: list[np.ndarray]
    hour: list[np.ndarray]
    kind: list[np.ndarray]
    channel: list[np.ndarray]
    wait: list[np.ndarray]
    satisfaction: list[np.ndarray]
    text: list[np.ndarray]

    @classmethod
    def empty(cls) -> EventArrays:
        return cls([], [], [], [], [], [], [], [])

    def add(
        self,
        customer: np.ndarray,
        day: np.ndarray,
        hour: np.ndarray,
        kind: EventKind,
        channel: np.ndarray | Channel,
        *,
        wait: np.ndarray | None = None,
        satisfaction: np.ndarray | None = None,
        text: np.ndarray | int = -1,
    ) -> None:
        j = len(customer)
        self.customer.append(np.asarray(customer, dtype=np.int64))
        self.day.append(np.asarray(day, dtype=np.int64))
        self.hour.append(np.broadcast_to(np.asarray(hour, dtype=np.float64), (j,)))
        self.kind.append(np.full(j, KINDS.index(kind)))
        ch = np.asarray(channel) if not isinstance(channel, Channel) else CHANNELS.index(channel)
        self.channel.append(np.broadcast_to(ch, (j,)).astype(np.int64))
        self.wait.append(np.full(j, np.nan) if wait is None else wait)
        self.satisfaction.append(np.full(j, -1) if satisfaction is None else satisfaction)
        self.text.append(np.broadcast_to(np.asarray(text, dtype=np.int64), (j,)))

    def concatenated(self) -> dict[str, np.ndarray]:
        return {name: np.concatenate(parts) for name, parts in vars(self).items()}


@dataclass(frozen=True)
class ServiceHistory:
    events: dict[str, np.ndarray]  # customer, day, hour, kind, channel, wait, satisfaction, text
    complaint_hazard: np.ndarray  # (n, days) realised daily hazard
    complaint_prob_30d: np.ndarray  # (n, days) oracle: P(complaint in [t, t+30) | before t)
    complaints: np.ndarray  # (n, days) bool


def _decayed(x: np.ndarray, tau: float) -> np.ndarray:
    """Exponentially decayed running sum along days: S(t) = a S(t-1) + x(t)."""
    return decayed_sum(x, float(np.exp(-1 / tau)))


def simulate_service(
    pop: Population,
    halls: Halls,
    timeline: Timeline,
    incidents: Incidents,
    hits: Hits,
    meter: MeterData,
    fault_day: np.ndarray,
    bills: Bills,
    counter_contacts: tuple[np.ndarray, np.ndarray, np.ndarray],
    streams: CustomerStreams,
) -> ServiceHistory:
    """`counter_contacts` (customer, day, hour): visits where a suggestion was shown."""
    n, days = pop.n, timeline.days
    months = len(timeline.periods)
    events = EventArrays.empty()

    # Grid: outages and meter faults.
    outage_today = np.zeros((n, days))
    hit_day = incidents.day[hits.incident]
    np.add.at(outage_today, (hits.customer, hit_day), 1 + incidents.duration_h[hits.incident] / 8)
    cause = incidents.cause[hits.incident]
    events.add(
        hits.customer,
        hit_day,
        incidents.start_hour[hits.incident],
        EventKind.OUTAGE,
        Channel.GRID,
        text=TEXTS.index(CAUSE_TEXT[0]) + cause,
    )
    faulty = np.flatnonzero(fault_day >= 0)
    fault_today = np.zeros((n, days))
    fault_today[faulty, fault_day[faulty]] = 1.0
    events.add(
        faulty, fault_day[faulty], 10.0, EventKind.METER_FAULT, Channel.GRID, text=len(TEXTS) - 1
    )

    # Bills: a shock on the day a bill well above last year's arrives.
    growth = bill_growth(bills, n, months)
    shock = np.zeros((n, days))
    month_growth = growth[bills.customer, bills.month]
    shocked = (month_growth > 0.3) & (bills.issue_day < days)
    shock[bills.customer[shocked], bills.issue_day[shocked]] = np.clip(
        month_growth[shocked], 0, 1.5
    )

    fast_outage = _decayed(outage_today, 3.0)
    fast_shock = _decayed(shock, 5.0)
    estimated = meter.estimated.astype(float)

    # Hall visits (their own, plus those where staff showed a suggestion) and their queues.
    visit_rate = pop.visits_per_year[:, None] / 365 * (1 + 3 * fast_outage + 2 * fast_shock)
    own_customer, own_day = np.nonzero(streams.uniform(days) < visit_rate)
    own_hour = streams.each(lambda rng, r: rng.uniform(9, 17, _count(own_customer, r)))
    contact_customer, contact_day, contact_hour = counter_contacts
    visit_customer, visit_day, visit_hour = _by_customer(
        np.concatenate([own_customer, contact_customer]),
        np.concatenate([own_day, contact_day]),
        np.concatenate([own_hour, contact_hour]),
    )
    queue = streams.each(lambda rng, r: rng.standard_normal(_count(visit_customer, r)))
    wait = np.round(
        halls.mean_wait_minutes[pop.hall[visit_customer]] * np.exp(0.5 * queue - 0.125), 1
    )
    events.add(visit_customer, visit_day, visit_hour, EventKind.HALL_VISIT, Channel.HALL, wait=wait)
    long_wait = np.zeros((n, days))
    np.add.at(long_wait, (visit_customer, visit_day), wait > LONG_WAIT_MINUTES)

    # 95598 calls.
    call_rate = (
        pop.calls_per_year[:, None]
        / 365
        * (1 + 8 * outage_today + 2 * fast_shock + 2 * _decayed(estimated, 3.0))
    )
    call_customer, call_day = np.nonzero(streams.uniform(days) < call_rate)
    call_hour = streams.each(lambda rng, r: rng.uniform(8, 22, _count(call_customer, r)))
    events.add(call_customer, call_day, call_hour, EventKind.CALL_95598, Channel.PHONE)

    # Complaints from the hazard.
    inputs = {
        "outage": outage_today,
        "long_wait": long_wait,
        "estimated": estimated,
        "meter_fault": fault_today,
        "bill_shock": shock,
    }
    traces = {name: _decayed(inputs[name], tau) for name, (_, tau, _) in DRIVERS.items()}
    contributions = np.stack([DRIVERS[name][0] * traces[name] for name in DRIVERS])
    base = BASE_COMPLAINTS_PER_DAY * pop.complaint_proneness[:, None]
    season = 1 + SEASON_AMPLITUDE * seasonal_cycle(timeline.day_of_year)
    hazard = base * season[None, :] * (1 + contributions.sum(axis=0))
    complaints = streams.uniform(days) < 1 - np.exp(-hazard)
    complaint_customer, complaint_day = np.nonzero(complaints)
    strongest = np.argmax(contributions[:, complaint_customer, complaint_day], axis=0)
    dominant = contributions[strongest, complaint_customer, complaint_day] > 1.0
    text = np.where(dominant, 1 + strongest, 0)
    channel_u = streams.each(lambda rng, r: rng.random(_count(complaint_customer, r)))
    complaint_hour = streams.each(lambda rng, r: rng.uniform(8, 21, _count(complaint_customer, r)))
    by_app = pop.has_app[complaint_customer] & (channel_u > 0.85)
    channel = np.select(
        [channel_u < 0.65, by_app],
        [CHANNELS.index(Channel.PHONE), CHANNELS.index(Channel.APP)],
        CHANNELS.index(Channel.HALL),
    )
    events.add(
        complaint_customer, complaint_day, complaint_hour, EventKind.COMPLAINT, channel, text=text
    )

    oracle = _complaint_oracle(base, traces, timeline)

    # Surveys after visits and complaints: satisfaction falls after bad experiences.
    asked_after_visit = streams.each(lambda rng, r: rng.random(_count(visit_customer, r))) < 0.25
    asked_after_complaint = (
        streams.each(lambda rng, r: rng.random(_count(complaint_customer, r))) < 0.5
    )
    survey_customer = np.concatenate(
        [visit_customer[asked_after_visit], complaint_customer[asked_after_complaint]]
    )
    survey_day = (
        np.concatenate([visit_day[asked_after_visit], complaint_day[asked_after_complaint]]) + 1
    )
    after_long_wait = np.concatenate(
        [wait[asked_after_visit] > LONG_WAIT_MINUTES, np.zeros(asked_after_complaint.sum(), bool)]
    )
    after_complaint = np.concatenate(
        [np.zeros(asked_after_visit.sum(), bool), np.ones(asked_after_complaint.sum(), bool)]
    )
    survey_customer, survey_day, after_long_wait, after_complaint = _by_customer(
        survey_customer, survey_day, after_long_wait, after_complaint
    )
    at = (survey_customer, np.minimum(survey_day, days - 1))
    mood = streams.each(lambda rng, r: rng.standard_normal(_count(survey_customer, r)))
    score = (
        4.4
        - 1.3 * after_long_wait
        - 1.5 * after_complaint
        - 0.9 * np.minimum(traces["outage"][at], 1)
        - 0.6 * np.minimum(traces["bill_shock"][at], 1)
        - 0.8 * np.minimum(traces["meter_fault"][at], 1)
        + 0.6 * mood
    )
    satisfaction = np.clip(np.round(score), 1, 5).astype(np.int64)
    survey_hour = streams.each(lambda rng, r: rng.uniform(10, 19, _count(survey_customer, r)))
    survey_channel = np.where(
        pop.has_app[survey_customer], CHANNELS.index(Channel.APP), CHANNELS.index(Channel.PHONE)
    )
    events.add(
        survey_customer,
        survey_day,
        survey_hour,
        EventKind.SURVEY,
        survey_channel,
        satisfaction=satisfaction,
    )

    # App logins, more on the days a bill arrives.
    bill_day = np.zeros((n, days))
    issued = bills.issue_day < days
    bill_day[bills.customer[issued], bills.issue_day[issued]] = 1.0
    login_rate = pop.logins_per_month[:, None] / 30 * (1 + 4 * _decayed(bill_day, 2.0))
    login_customer, login_day = np.nonzero(streams.uniform(days) < np.minimum(login_rate, 0.9))
    login_hour = streams.each(lambda rng, r: rng.uniform(7, 23.5, _count(login_customer, r)))
    events.add(login_customer, login_day, login_hour, EventKind.APP_LOGIN, Channel.APP)

    # Payments.
    paid = bills.paid_day >= 0
    pay_customer = bills.customer[paid]
    pay_channel = np.where(
        pop.has_app[pay_customer], CHANNELS.index(Channel.APP), CHANNELS.index(Channel.HALL)
    )
    events.add(
        pay_customer, bills.paid_day[paid], bills.paid_hour[paid], EventKind.PAYMENT, pay_channel
    )

    return ServiceHistory(events.concatenated(), hazard, oracle, complaints)


def _complaint_oracle(
    base: np.ndarray, traces: dict[str, np.ndarray], timeline: Timeline
) -> np.ndarray:
    """P(a complaint in days t .. t+29 | everything before day t).

    The traces known before t decay deterministically over the window; bad experiences
    that have not happened yet are not foreseen (no model can foresee them either).
    """
    steps = np.arange(COMPLAINT_WINDOW_DAYS)
    season = 1 + SEASON_AMPLITUDE * seasonal_cycle(timeline.day_of_year[:, None] + steps[None, :])
    expected = base * season.sum(axis=1)[None, :]
    for name, (weight, tau, _) in DRIVERS.items():
        before = np.zeros_like(traces[name])
        before[:, 1:] = traces[name][:, :-1]
        carried = (season * np.exp(-(steps[None, :] + 1) / tau)).sum(axis=1)
        expected += base * weight * before * carried[None, :]
    return 1 - np.exp(-expected)


def _by_customer(customer: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """Rows sorted by customer (stable), as ragged per-block draws need."""
    order = np.argsort(customer, kind="stable")
    return customer[order], *(c[order] for c in columns)


def _count(customer: np.ndarray, rows: slice) -> int:
    """How many entries of a sorted `customer` array fall in the block `rows`."""
    lo, hi = np.searchsorted(customer, [rows.start, rows.stop])
    return int(hi - lo)
