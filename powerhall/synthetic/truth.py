"""The hidden truth, written beside the contract tables under ``truth/``.

Never ingested; read only by evaluation (oracle scores), notebooks and the closed-loop
simulation, which needs each customer's true response to any suggestion.

- ``customers``: traits, true appliances (and their kWh per year), propensities, tariffs.
- ``complaint_daily``: per customer-day, the realised complaint hazard and the oracle
  probability of a complaint in the next 30 days given everything before that day.
- ``churn_monthly``: per business customer-month at risk, the hazard of leaving at that
  month's end and the oracle probability of leaving within 3 months.
- ``suggestions``: per shown tariff offer or tip, its true yuan benefit per year and the
  true acceptance probability that decided its outcome.
- ``tip_propensity``: per customer and tip of its segment, benefit and true acceptance
  probability at the counter and in the app.
- ``tariff_bills``: the engine's monthly bill of every customer under every eligible
  tariff (true savings of any switch, for any month).
- ``halls``, ``outages``, ``weather``: the shared world.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from powerhall.contract import UTC_TIMESTAMP
from powerhall.synthetic.chunk import Chunk, World
from powerhall.synthetic.load_shapes import PROFILES
from powerhall.synthetic.outages import CAUSES
from powerhall.synthetic.population import SEGMENTS
from powerhall.synthetic.tables import final_option
from powerhall.synthetic.tips import TIP_IDS, eligible
from powerhall.synthetic.weather import REGIONS


def _date32(epoch_days: np.ndarray) -> pa.Array:
    return pa.array(epoch_days.astype(np.int32), pa.int32()).cast(pa.date32())


def customers(chunk: Chunk) -> pa.Table:
    pop, r, timeline = chunk.pop, chunk.readings, chunk.timeline
    rows = np.arange(pop.n)
    closed = chunk.churn.closed_month >= 0
    fault = r.fault_day >= 0
    return pa.table(
        {
            "customer_id": pa.array(pop.customer_id, pa.string()),
            "segment": pa.array([SEGMENTS[s].value for s in pop.segment], pa.string()),
            "region": pa.array([REGIONS[g].value for g in pop.region], pa.string()),
            "hall_id": pa.array(chunk.world.halls.hall_id[pop.hall], pa.string()),
            "load_profile": pa.array([PROFILES[p] for p in pop.profile], pa.string()),
            "base_kwh_per_day": pop.kwh_per_day,
            "growth_per_year": pop.growth_per_year,
            "has_air_conditioning": pop.ac_kwh_per_degree > 0,
            "ac_kwh_per_degree_day": pop.ac_kwh_per_degree,
            "has_electric_heating": pop.heating_kwh_per_degree > 0,
            "heating_kwh_per_degree_day": pop.heating_kwh_per_degree,
            "has_ev": pop.has_ev,
            "ev_valley_charging": pop.ev_valley_charging,
            "ev_sessions_per_week": pop.ev_sessions_per_week,
            "has_water_heater": pop.has_water_heater,
            "water_heater_timer": pop.water_heater_timer,
            **{f"{name}_kwh_per_year": kwh for name, kwh in r.appliance_kwh.items()},
            "spring_festival_depth": pop.spring_festival_depth,
            "price_sensitivity": pop.price_sensitivity,
            "responsiveness": pop.responsiveness,
            "complaint_proneness": pop.complaint_proneness,
            "late_payment": pop.late_payment,
            "logins_per_month": pop.logins_per_month,
            "visits_per_year": pop.visits_per_year,
            "calls_per_year": pop.calls_per_year,
            "missing_hour_rate": pop.missing_hour_rate,
            "estimated_day_rate": pop.estimated_day_rate,
            "meter_fault_date": pa.array(
                timeline.epoch_days(np.maximum(r.fault_day, 0)), pa.int32(), mask=~fault
            ).cast(pa.date32()),
            "initial_tariff_id": pa.array(
                chunk.options.tariff_id[rows, chunk.initial_option], pa.string()
            ),
            "tariff_id": pa.array(chunk.options.tariff_id[rows, final_option(chunk)], pa.string()),
            "churned": closed,
            "closed_date": pa.array(
                timeline.epoch_days(chunk.last_day), pa.int32(), mask=~closed
            ).cast(pa.date32()),
        }
    )


def complaint_daily(chunk: Chunk) -> pa.Table:
    pop, timeline, service = chunk.pop, chunk.timeline, chunk.service
    days = np.arange(timeline.days)
    keep = (days[None, :] >= pop.created_day[:, None]) & (days[None, :] <= chunk.last_day[:, None])
    customer, day = np.nonzero(keep)
    return pa.table(
        {
            "customer_id": pa.array(pop.customer_id, pa.string()).take(pa.array(customer)),
            "date": _date32(timeline.epoch_day[day]),
            "complaint_hazard": service.complaint_hazard[customer, day].astype(np.float32),
            "complaint_prob_30d": service.complaint_prob_30d[customer, day].astype(np.float32),
            "complained": service.complaints[customer, day],
        }
    )


def churn_monthly(chunk: Chunk) -> pa.Table:
    churn, pop = chunk.churn, chunk.pop
    customer, month = np.nonzero(~np.isnan(churn.hazard))
    return pa.table(
        {
            "customer_id": pa.array(pop.customer_id, pa.string()).take(pa.array(customer)),
            "period": pa.array(np.array(chunk.timeline.periods, dtype=object)[month], pa.string()),
            "churn_hazard": churn.hazard[customer, month],
            "churn_prob_90d": churn.prob_90d[customer, month],
            "bill_growth_3m": churn.bill_growth[customer, month],
            "complaints_90d": churn.complaints_90d[customer, month].astype(np.int64),
            "churned": churn.closed_month[customer] == month,
        }
    )


def suggestions(chunk: Chunk, rows: dict[str, np.ndarray]) -> pa.Table:
    return pa.table(
        {
            "suggestion_id": pa.array(rows["suggestion_id"], pa.string()),
            "customer_id": pa.array(chunk.pop.customer_id[rows["customer"]], pa.string()),
            "kind": pa.array(rows["kind"], pa.string()),
            "item_id": pa.array(rows["item_id"], pa.string()),
            "benefit_cny_year": rows["benefit_cny_year"],
            "p_accept": rows["p_accept"],
        }
    )


def tip_propensity(chunk: Chunk) -> pa.Table:
    customer, tip = np.nonzero(eligible(chunk.pop))
    return pa.table(
        {
            "customer_id": pa.array(chunk.pop.customer_id[customer], pa.string()),
            "tip_id": pa.array(np.array(TIP_IDS, dtype=object)[tip], pa.string()),
            "benefit_cny_year": chunk.tip_benefit[customer, tip],
            "p_accept_counter": chunk.tip_p_counter[customer, tip],
            "p_accept_app": chunk.tip_p_app[customer, tip],
        }
    )


def tariff_bills(chunk: Chunk) -> pa.Table:
    frame = chunk.options.engine_rows
    position = {p: m for m, p in enumerate(chunk.timeline.periods)}
    row_of = {c: i for i, c in enumerate(chunk.pop.customer_id)}
    customer = frame["customer_id"].map(row_of).to_numpy()
    month = frame["period"].map(position).to_numpy()
    keep = month <= chunk.timeline.day_month[chunk.last_day[customer]]
    frame = frame.loc[keep].sort_values(["customer_id", "tariff_id", "period"], kind="stable")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table.select(
        [
            "customer_id",
            "tariff_id",
            *[c for c in table.column_names if c not in ("customer_id", "tariff_id")],
        ]
    )


def world_tables(world: World) -> dict[str, pa.Table]:
    halls, incidents, timeline, weather = (
        world.halls,
        world.incidents,
        world.timeline,
        world.weather,
    )
    regions = np.array([r.value for r in REGIONS], dtype=object)
    region_of_day, day = np.indices(weather.temperature_c.shape)
    return {
        "halls": pa.table(
            {
                "hall_id": pa.array(halls.hall_id, pa.string()),
                "region": pa.array(regions[halls.region], pa.string()),
                "mean_wait_minutes": halls.mean_wait_minutes,
                "outages_per_year": halls.outages_per_year,
                "planned_outages_per_year": halls.planned_outages_per_year,
                "storm_sensitivity": halls.storm_sensitivity,
            }
        ),
        "outages": pa.table(
            {
                "hall_id": pa.array(halls.hall_id[incidents.hall], pa.string()),
                "start": pa.array(
                    timeline.utc_us(incidents.day, incidents.start_hour), pa.int64()
                ).cast(UTC_TIMESTAMP),
                "duration_h": incidents.duration_h,
                "cause": pa.array(np.array(CAUSES, dtype=object)[incidents.cause], pa.string()),
                "share_cut": incidents.share,
            }
        ),
        "weather": pa.table(
            {
                "region": pa.array(regions[region_of_day.ravel()], pa.string()),
                "date": _date32(timeline.epoch_day[day.ravel()]),
                "temperature_c": weather.temperature_c.ravel(),
                "storm": weather.storm.ravel(),
            }
        ),
    }


def chunk_tables(chunk: Chunk, rows: dict[str, np.ndarray]) -> dict[str, pa.Table]:
    return {
        "customers": customers(chunk),
        "complaint_daily": complaint_daily(chunk),
        "churn_monthly": churn_monthly(chunk),
        "suggestions": suggestions(chunk, rows),
        "tip_propensity": tip_propensity(chunk),
        "tariff_bills": tariff_bills(chunk),
    }
