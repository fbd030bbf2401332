"""Commercial and industrial customers who leave for another retailer.

A business may switch retailer at the end of any month. Its monthly hazard rises with
its hidden price sensitivity, with its recent bills' growth against the same months a year
before, and with its complaints in the last 90 days. When it leaves, the
contract closes on the last day of that month and its readings, bills and events stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from powerhall.synthetic.billing import Bills, bill_growth
from powerhall.synthetic.population import Population
from powerhall.synthetic.streams import CustomerStreams
from powerhall.synthetic.timeline import Timeline

BASE_CHURN_PER_MONTH: Final = 0.005
HORIZON_MONTHS: Final = 3


@dataclass(frozen=True)
class Churn:
    closed_month: np.ndarray  # (n,) month whose last day closes the contract; -1: stays
    hazard: np.ndarray  # (n, months) monthly hazard; NaN where not at risk
    prob_90d: np.ndarray  # (n, months) oracle P(leaving within 3 months | month's state)
    bill_growth: np.ndarray  # (n, months) recent bills against last year's
    complaints_90d: np.ndarray  # (n, months)


def _recent_growth(bills: Bills, n: int, months: int) -> np.ndarray:
    """Mean bill growth (see `bill_growth`) over each month and the two before it."""
    growth = bill_growth(bills, n, months)
    known = ~np.isnan(growth)
    values = np.where(known, growth, 0.0)
    sums = np.zeros_like(values)
    counts = np.zeros_like(values)
    for lag in range(3):
        sums[:, lag:] += values[:, : months - lag]
        counts[:, lag:] += known[:, : months - lag]
    return np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)


def simulate_churn(
    pop: Population,
    bills: Bills,
    complaints: np.ndarray,
    timeline: Timeline,
    streams: CustomerStreams,
) -> Churn:
    n, months = pop.n, len(timeline.periods)
    growth = np.zeros((n, months))
    growth[:, 1:] = _recent_growth(bills, n, months)[:, :-1]  # last month's bill arrives later
    running = np.concatenate([np.zeros((n, 1)), np.cumsum(complaints, axis=1)], axis=1)
    end = np.minimum(timeline.month_last_day, timeline.days - 1) + 1
    complaints_90d = running[:, end] - running[:, np.maximum(end - 90, 0)]
    log_hazard = (
        3.0 * (pop.price_sensitivity[:, None] - 0.4)
        + 3.0 * np.clip(growth, -0.3, 1.0)
        + 1.0 * np.minimum(complaints_90d, 3)
    )
    hazard = BASE_CHURN_PER_MONTH * np.exp(log_hazard)
    month_ends_inside = timeline.month_last_day < timeline.days
    at_risk = (
        pop.business[:, None]
        & month_ends_inside[None, :]
        & (timeline.month_first_day[None, :] >= pop.created_day[:, None])
    )
    hazard = np.where(at_risk, hazard, np.nan)
    leaves = streams.uniform(months) < 1 - np.exp(-np.nan_to_num(hazard))
    closed_month = np.where(leaves.any(axis=1), np.argmax(leaves, axis=1), -1)
    after = np.arange(months)[None, :] > closed_month[:, None]
    hazard = np.where((closed_month[:, None] >= 0) & after, np.nan, hazard)
    return Churn(
        closed_month=closed_month,
        hazard=hazard,
        prob_90d=1 - np.exp(-HORIZON_MONTHS * hazard),
        bill_growth=growth,
        complaints_90d=complaints_90d,
    )
