"""The five contract tables of a chunk, as Arrow tables in `CONTRACT_SCHEMAS`.

Only what a utility would actually hold is written here: rows inside each customer's
contract (from its start to its close), timestamps in UTC, ids as strings.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa

from powerhall.contract import (
    CONTRACT_SCHEMAS,
    KWH_COLUMNS,
    UTC_TIMESTAMP,
    Channel,
    Outcome,
    ReadingQuality,
    SuggestionKind,
    Table,
)
from powerhall.synthetic.chunk import Chunk
from powerhall.synthetic.events import CHANNELS, KINDS, TEXTS
from powerhall.synthetic.offers import APP, COUNTER
from powerhall.synthetic.population import SEGMENTS
from powerhall.synthetic.timeline import US_PER_HOUR
from powerhall.synthetic.tips import TIP_IDS
from powerhall.synthetic.weather import REGIONS

_CLOSE_HOUR: Final = 17.0
_SUGGESTION_CHANNELS: Final = {COUNTER: Channel.COUNTER.value, APP: Channel.APP.value}


def _strings(values: np.ndarray, index: np.ndarray) -> pa.Array:
    """`values[index]` as a string array, without a Python object per row."""
    return pa.array(values.astype(object), pa.string()).take(pa.array(index, pa.int64()))


def _timestamps(us: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~valid
    return pa.array(us.astype(np.int64), pa.int64(), mask=mask).cast(UTC_TIMESTAMP)


def _table(table: Table, columns: dict[str, pa.Array]) -> pa.Table:
    schema = CONTRACT_SCHEMAS[table]
    return pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)


def final_option(chunk: Chunk) -> np.ndarray:
    """The tariff option in force on each customer's last contract day."""
    month = chunk.timeline.day_month[chunk.last_day]
    return chunk.in_force[np.arange(chunk.pop.n), month]


def customers(chunk: Chunk) -> pa.Table:
    pop, timeline = chunk.pop, chunk.timeline
    rows = np.arange(pop.n)
    closed = chunk.churn.closed_month >= 0
    columns = {
        "customer_id": _strings(pop.customer_id, rows),
        "account_no": _strings(pop.account_no, rows),
        "segment": _strings(np.array([s.value for s in SEGMENTS]), pop.segment),
        "region": _strings(np.array([r.value for r in REGIONS]), pop.region),
        "hall_id": _strings(chunk.world.halls.hall_id, pop.hall),
        "tariff_id": _strings(chunk.options.tariff_id[rows, final_option(chunk)], rows),
        "contract_capacity_kva": pa.array(
            chunk.readings.capacity_kva, pa.float64(), from_pandas=True
        ),
        "has_app": pa.array(pop.has_app, pa.bool_()),
        "push_consent": pa.array(pop.push_consent, pa.bool_()),
        "phone": _strings(pop.phone, rows),
        "created_at": _timestamps(timeline.utc_us(pop.created_day, pop.created_hour)),
        "closed_at": _timestamps(timeline.utc_us(chunk.last_day, _CLOSE_HOUR), closed),
    }
    return _table(Table.CUSTOMERS, columns)


def readings(chunk: Chunk) -> pa.Table:
    pop, timeline, meter = chunk.pop, chunk.timeline, chunk.meter
    days = np.arange(timeline.days)
    keep = meter.active & (days[None, :] <= chunk.last_day[:, None])
    customer, day = np.nonzero(keep)
    columns = {
        "customer_id": _strings(pop.customer_id, customer),
        "date": pa.array(timeline.epoch_day[day], pa.int32()).cast(pa.date32()),
        "quality": _strings(
            np.array([ReadingQuality.ACTUAL.value, ReadingQuality.ESTIMATED.value]),
            meter.estimated[customer, day].astype(np.int64),
        ),
        "max_demand_kw": pa.array(
            meter.max_demand_kw[customer, day], pa.float64(), from_pandas=True
        ),
    }
    hours = meter.kwh[customer, day]
    for h, name in enumerate(KWH_COLUMNS):
        columns[name] = pa.array(hours[:, h], pa.float64(), from_pandas=True)
    return _table(Table.READINGS, columns)


def bills(chunk: Chunk) -> pa.Table:
    b, timeline = chunk.bills, chunk.timeline
    keep = b.month <= timeline.day_month[chunk.last_day[b.customer]]
    customer, month = b.customer[keep], b.month[keep]
    paid = b.paid_day[keep]
    paid_ok = (paid >= 0) & (paid <= chunk.last_day[customer] + 60)
    columns = {
        "customer_id": _strings(chunk.pop.customer_id, customer),
        "period": _strings(np.array(timeline.periods), month),
        "kwh": pa.array(b.kwh[keep], pa.float64()),
        "amount_cny": pa.array(b.amount_cny[keep], pa.float64()),
        "tariff_id": _strings(
            chunk.options.tariff_id[customer, b.option[keep]], np.arange(len(customer))
        ),
        "due_date": pa.array(timeline.epoch_days(b.due_day[keep]), pa.int32()).cast(pa.date32()),
        "paid_at": _timestamps(timeline.utc_us(np.maximum(paid, 0), b.paid_hour[keep]), paid_ok),
    }
    return _table(Table.BILLS, columns)


def service_events(chunk: Chunk) -> pa.Table:
    e, pop, timeline = chunk.service.events, chunk.pop, chunk.timeline
    keep = (e["day"] >= np.maximum(pop.created_day[e["customer"]], 0)) & (
        e["day"] <= chunk.last_day[e["customer"]]
    )
    e = {name: values[keep] for name, values in e.items()}
    order = np.lexsort((e["kind"], e["hour"], e["day"], e["customer"]))
    e = {name: values[order] for name, values in e.items()}
    customer = e["customer"]
    starts = np.searchsorted(customer, customer, side="left")
    sequence = np.arange(len(customer)) - starts
    ids = [f"{c}-E{s:05d}" for c, s in zip(pop.customer_id[customer], sequence, strict=True)]
    satisfaction = e["satisfaction"]
    text = e["text"]
    columns = {
        "event_id": pa.array(ids, pa.string()),
        "customer_id": _strings(pop.customer_id, customer),
        "ts": _timestamps(timeline.utc_us(e["day"], e["hour"])),
        "kind": _strings(np.array([k.value for k in KINDS]), e["kind"]),
        "channel": _strings(np.array([c.value for c in CHANNELS]), e["channel"]),
        "wait_minutes": pa.array(e["wait"], pa.float64(), from_pandas=True),
        "satisfaction": pa.array(satisfaction, pa.int8(), mask=satisfaction < 0),
        "text": pa.array(
            np.array(TEXTS, dtype=object)[np.maximum(text, 0)], pa.string(), mask=text < 0
        ),
    }
    return _table(Table.SERVICE_EVENTS, columns)


def suggestion_rows(chunk: Chunk) -> dict[str, np.ndarray]:
    """Tariff offers and tips shown, merged in time order, with their suggestion ids."""
    offers, tips = chunk.offers, chunk.tips
    tariff_item = chunk.options.tariff_id[offers.customer, offers.option]
    rows = {
        "customer": np.concatenate([offers.customer, tips.customer]),
        "day": np.concatenate([offers.day, tips.day]),
        "hour": np.concatenate([offers.hour, tips.hour]),
        "channel": np.concatenate([offers.channel, tips.channel]),
        "kind": np.concatenate(
            [
                np.full(len(offers.day), SuggestionKind.TARIFF.value, dtype=object),
                np.full(len(tips.day), SuggestionKind.TIP.value, dtype=object),
            ]
        ),
        "item_id": np.concatenate(
            [tariff_item.astype(object), np.array(TIP_IDS, dtype=object)[tips.tip]]
        ),
        "benefit_cny_year": np.concatenate(
            [offers.saving_cny_year, chunk.tip_benefit[tips.customer, tips.tip]]
        ),
        "p_accept": np.concatenate([offers.p_accept, tips.p_accept]),
        "accepted": np.concatenate([offers.accepted, tips.accepted]),
        "response": np.concatenate([offers.response, tips.response]),
        "delay_h": np.concatenate([offers.response_delay_h, tips.response_delay_h]),
    }
    keep = rows["day"] <= chunk.last_day[rows["customer"]]
    rows = {name: values[keep] for name, values in rows.items()}
    order = np.lexsort((rows["hour"], rows["day"], rows["customer"]))
    rows = {name: values[order] for name, values in rows.items()}
    customer = rows["customer"]
    sequence = np.arange(len(customer)) - np.searchsorted(customer, customer, side="left")
    rows["suggestion_id"] = np.array(
        [f"{c}-S{s:03d}" for c, s in zip(chunk.pop.customer_id[customer], sequence, strict=True)],
        dtype=object,
    )
    return rows


def recorded_outcomes(p_accept: np.ndarray, response: np.ndarray, app: np.ndarray) -> np.ndarray:
    """What was recorded of each suggestion (index into Outcome): accepted when its uniform
    `response` falls below `p_accept`; otherwise the same draw, uniform again among the
    non-accepting, picks declined or ignored at the counter, and clicked, dismissed or
    ignored in the app. The closed-loop simulation answers its suggestions the same way."""
    outcomes = tuple(Outcome)
    rest = (response - p_accept) / np.maximum(1 - p_accept, 1e-9)
    at_counter = np.where(
        rest < 0.85, outcomes.index(Outcome.DECLINED), outcomes.index(Outcome.IGNORED)
    )
    in_app = np.select(
        [rest < 0.25, rest < 0.6],
        [outcomes.index(Outcome.CLICKED), outcomes.index(Outcome.DISMISSED)],
        outcomes.index(Outcome.IGNORED),
    )
    return np.where(
        response < p_accept, outcomes.index(Outcome.ACCEPTED), np.where(app, in_app, at_counter)
    )


def _outcomes(rows: dict[str, np.ndarray], chunk: Chunk) -> tuple[np.ndarray, np.ndarray]:
    """The recorded outcome (index into Outcome) and its delay in hours (NaN: none)."""
    outcomes = tuple(Outcome)
    app = rows["channel"] == APP
    outcome = recorded_outcomes(rows["p_accept"], rows["response"], app)
    delay = np.where(app, rows["delay_h"], rows["delay_h"] / 60)  # counter: minutes
    answered_day = rows["day"] + (rows["hour"] + delay) / 24
    too_late = answered_day >= chunk.last_day[rows["customer"]] + 1
    outcome = np.where(too_late, outcomes.index(Outcome.IGNORED), outcome)
    delay = np.where((outcome == outcomes.index(Outcome.IGNORED)), np.nan, delay)
    return outcome, delay


def suggestion_outcomes(chunk: Chunk, rows: dict[str, np.ndarray]) -> pa.Table:
    timeline = chunk.timeline
    outcome, delay = _outcomes(rows, chunk)
    shown = timeline.utc_us(rows["day"], rows["hour"])
    answered = shown + np.round(np.nan_to_num(delay) * US_PER_HOUR).astype(np.int64)
    index = np.arange(len(outcome))
    columns = {
        "suggestion_id": _strings(rows["suggestion_id"], index),
        "customer_id": _strings(chunk.pop.customer_id, rows["customer"]),
        "kind": _strings(rows["kind"], index),
        "item_id": _strings(rows["item_id"], index),
        "channel": _strings(np.array(list(_SUGGESTION_CHANNELS.values())), rows["channel"]),
        "shown_at": _timestamps(shown),
        "outcome": _strings(np.array([o.value for o in Outcome]), outcome),
        "outcome_at": _timestamps(answered, ~np.isnan(delay)),
    }
    return _table(Table.SUGGESTION_OUTCOMES, columns)
