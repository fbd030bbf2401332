"""Monthly bills from the readings, by the tariff engine, under every eligible tariff.

Each customer is billed under every tariff of its segment and region (not only its own),
because the difference is the true yuan value of a tariff offer, and because a customer
who accepts an offer switches tariff: the bills it then receives are those of the new
tariff from the next month on. The engine bills the readings exactly as they are written
(rounded to the Wh, faults and all), so that the bills table matches `bill_by_month`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from powerhall.contract import KWH_COLUMNS
from powerhall.errors import NotFoundError
from powerhall.synthetic.population import SEGMENTS, Population
from powerhall.synthetic.streams import CustomerStreams
from powerhall.synthetic.timeline import Timeline
from powerhall.synthetic.weather import REGIONS
from powerhall.tariffs import HourlyReadings, TariffCatalogue, bill_by_month

MAX_OPTIONS: Final = 4
ISSUE_DAY: Final = 3  # bills are issued on the 3rd of the following month
DUE_DAY: Final = 25  # and due on the 25th


@dataclass(frozen=True)
class MeterData:
    """The readings of a chunk as written: float64 rounded to the Wh, NaN = missing."""

    kwh: np.ndarray  # (n, days, 24)
    max_demand_kw: np.ndarray  # (n, days)
    estimated: np.ndarray  # (n, days)
    active: np.ndarray  # (n, days) rows that exist (contract started, not yet closed)


@dataclass(frozen=True)
class TariffOptions:
    """Monthly bills of each customer under each tariff it may choose."""

    tariff_id: np.ndarray  # (n, MAX_OPTIONS) object; None past a customer's options
    n_options: np.ndarray  # (n,)
    kwh: np.ndarray  # (n, MAX_OPTIONS, months) NaN where not billed
    amount_cny: np.ndarray  # (n, MAX_OPTIONS, months)
    engine_rows: pd.DataFrame  # bill_by_month output with tariff_id, for the truth


def _frame(pop: Population, meter: MeterData, timeline: Timeline, rows: np.ndarray) -> pd.DataFrame:
    customer, day = np.nonzero(meter.active[rows])
    customer = rows[customer]
    frame = pd.DataFrame(
        dict(zip(KWH_COLUMNS, meter.kwh[customer, day].T, strict=True)),
    )
    frame.insert(0, "date", timeline.dates.to_numpy()[day])
    frame.insert(0, "customer_id", pop.customer_id[customer])
    frame["max_demand_kw"] = meter.max_demand_kw[customer, day]
    return frame


def bill_options(
    pop: Population,
    meter: MeterData,
    capacity_kva: np.ndarray,
    timeline: Timeline,
    catalogue: TariffCatalogue,
) -> TariffOptions:
    n, months = pop.n, len(timeline.periods)
    tariff_id = np.full((n, MAX_OPTIONS), None, dtype=object)
    n_options = np.zeros(n, dtype=np.int64)
    kwh = np.full((n, MAX_OPTIONS, months), np.nan)
    amount = np.full((n, MAX_OPTIONS, months), np.nan)
    position = {p: m for m, p in enumerate(timeline.periods)}
    row_of = {c: i for i, c in enumerate(pop.customer_id)}
    engine_rows = []
    for s, r in sorted(set(zip(pop.segment.tolist(), pop.region.tolist(), strict=True))):
        eligible = catalogue.eligible(segment=SEGMENTS[s], region=REGIONS[r])[:MAX_OPTIONS]
        if not eligible:
            raise NotFoundError(
                f"the tariff catalogue has no {SEGMENTS[s]} tariff for region {REGIONS[r]}"
            )
        rows = np.flatnonzero((pop.segment == s) & (pop.region == r))
        n_options[rows] = len(eligible)
        hourly = HourlyReadings.from_frame(_frame(pop, meter, timeline, rows), fill_missing=True)
        capacity = pd.Series(capacity_kva[rows], index=pop.customer_id[rows])
        for k, tariff in enumerate(eligible):
            tariff_id[rows, k] = tariff.id
            bills = bill_by_month(tariff, hourly, contract_capacity_kva=capacity, fill_missing=True)
            i = bills["customer_id"].map(row_of).to_numpy()
            m = bills["period"].map(position).to_numpy()
            kwh[i, k, m] = bills["kwh"].to_numpy()
            amount[i, k, m] = bills["amount_cny"].to_numpy()
            engine_rows.append(bills.assign(tariff_id=tariff.id))
    frame = pd.concat(engine_rows, ignore_index=True) if engine_rows else pd.DataFrame()
    return TariffOptions(tariff_id, n_options, kwh, amount, frame)


def choose_initial_tariff(
    options: TariffOptions, pop: Population, streams: CustomerStreams
) -> np.ndarray:
    """The option each customer was on when the window opens.

    Price-sensitive customers tend to have found the cheaper tariff already (judged on
    their first year of bills); the others picked one at random.
    """
    first_year = np.nansum(options.amount_cny[:, :, :12], axis=2)
    first_year = np.where(np.arange(MAX_OPTIONS) < options.n_options[:, None], first_year, np.inf)
    cheapest = np.argmin(first_year, axis=1)
    informed = streams.uniform() < 0.35 + 0.55 * pop.price_sensitivity
    random_pick = (streams.uniform() * options.n_options).astype(np.int64)
    return np.where(informed, cheapest, random_pick)


@dataclass(frozen=True)
class Bills:
    customer: np.ndarray  # (B,) row in the chunk
    month: np.ndarray  # (B,)
    option: np.ndarray  # (B,) tariff option in force
    kwh: np.ndarray
    amount_cny: np.ndarray
    days: np.ndarray  # (B,) days of the month the contract covered
    issue_day: np.ndarray  # (B,) day index (may fall after the window: not yet issued)
    due_day: np.ndarray
    paid_day: np.ndarray  # (B,) -1: unpaid by the end of the window
    paid_hour: np.ndarray
    late: np.ndarray  # paid after the due date, or unpaid past it at the window's end


def monthly_bills(
    options: TariffOptions,
    in_force: np.ndarray,
    meter: MeterData,
    pop: Population,
    timeline: Timeline,
    streams: CustomerStreams,
) -> Bills:
    """The bills each customer received, under the tariff in force that month."""
    months = len(timeline.periods)
    issue = timeline.day_after_month(np.arange(months), ISSUE_DAY)
    due = timeline.day_after_month(np.arange(months), DUE_DAY)
    late = streams.uniform(months) < pop.late_payment[:, None]
    never = streams.uniform(months) < 0.15 * pop.late_payment[:, None]
    on_time_share = streams.uniform(months)
    overdue_days = 1 + np.floor(streams.each(lambda rng, r: rng.exponential(12.0, (_n(r), months))))
    hour = 8 + 14 * streams.uniform(months)

    amount = np.take_along_axis(options.amount_cny, in_force[:, None, :], axis=1)[:, 0]
    kwh = np.take_along_axis(options.kwh, in_force[:, None, :], axis=1)[:, 0]
    customer, month = np.nonzero(~np.isnan(amount) & (issue < timeline.days)[None, :])
    covered = np.add.reduceat(meter.active.astype(np.int64), timeline.month_first_day, axis=1)
    paid = np.where(
        late,
        due[None, :] + overdue_days,
        issue[None, :] + np.floor(on_time_share * (due - issue)[None, :]),
    ).astype(np.int64)
    paid = np.where(never | (paid >= timeline.days), -1, paid)
    unpaid_overdue = (paid < 0) & (due[None, :] < timeline.days)
    overdue = (paid > due[None, :]) | unpaid_overdue
    return Bills(
        customer=customer,
        month=month,
        option=in_force[customer, month],
        kwh=kwh[customer, month],
        amount_cny=amount[customer, month],
        days=covered[customer, month],
        issue_day=issue[month],
        due_day=due[month],
        paid_day=paid[customer, month],
        paid_hour=hour[customer, month],
        late=overdue[customer, month],
    )


def _n(rows: slice) -> int:
    return int(rows.stop - rows.start)


def bill_growth(bills: Bills, n: int, months: int) -> np.ndarray:
    """(n, months) each bill against the same month last year, else against the average of
    the customer's earlier bills, minus 1: "bill up 38% on last year". Bills are compared
    per day covered, so a first, partial month is no shock. NaN: no reference."""
    amount = np.full((n, months), np.nan)
    amount[bills.customer, bills.month] = bills.amount_cny / np.maximum(bills.days, 1)
    year_ago = np.full_like(amount, np.nan)
    year_ago[:, 12:] = amount[:, :-12]
    counts = np.cumsum(~np.isnan(amount), axis=1)
    sums = np.cumsum(np.nan_to_num(amount), axis=1)
    earlier = np.full_like(amount, np.nan)
    earlier[:, 1:] = np.where(
        counts[:, :-1] > 0, sums[:, :-1] / np.maximum(counts[:, :-1], 1), np.nan
    )
    reference = np.where(np.isnan(year_ago), earlier, year_ago)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(reference > 0, amount / reference - 1, np.nan)
