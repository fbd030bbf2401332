"""What tariff_fit reads from the lake and the truth: readings before a cut-off, the tariff in
force, past tariff offers with their forecast savings, and true next-year bills.

Every read is bounded by time, so a forecast at a cut-off never sees a later reading and
an offer's features never see a later snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Final

import numpy as np
import pandas as pd

from powerhall.contract import KWH_COLUMNS, Channel, Outcome, SuggestionKind, Table
from powerhall.errors import PowerhallError
from powerhall.lake import read_table
from powerhall.settings import Settings
from powerhall.tariffs import HourlyReadings, TariffCatalogue
from training.datasets import KEYS, load_profiles, truth_table
from training.tariff_acceptance import PROFILE_FEATURES, add_derived
from training.tariff_forecast import LOOKBACK_DAYS, add_months, history
from training.tariff_options import CUSTOMER_COLUMNS, bill_forecasts, bill_months

READING_COLUMNS: Final = ("customer_id", "date", *KWH_COLUMNS, "max_demand_kw")
PROFILE_VIEWS: Final = ("engagement", "billing")
"""The profile views the acceptance features come from."""


def month_start(day: date) -> date:
    return day.replace(day=1)


def readings_between(
    settings: Settings,
    start: date,
    end: date,
    customer_ids: Sequence[str] | None = None,
    *,
    id_range: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """Readings dated in [start, end), optionally of some customers only, or of the
    customer ids from ``id_range[0]`` to ``id_range[1]`` (a slice of a sorted list)."""
    where = "date >= ? AND date < ? AND month >= ? AND month <= ?"
    params: list[object] = [start, end, f"{start:%Y-%m}", f"{end - timedelta(days=1):%Y-%m}"]
    if customer_ids is not None:
        where += " AND list_contains(?, customer_id)"
        params.append([str(c) for c in customer_ids])
    if id_range is not None:
        where += " AND customer_id BETWEEN ? AND ?"
        params.extend(id_range)
    return read_table(
        settings.lake_dir, Table.READINGS, columns=READING_COLUMNS, where=where, params=params
    )


def readings_before(
    settings: Settings,
    cutoff: date,
    customer_ids: Sequence[str] | None = None,
    *,
    id_range: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """The readings a forecast at `cutoff` may use (and no later one)."""
    start = cutoff - timedelta(days=LOOKBACK_DAYS)
    return readings_between(settings, start, cutoff, customer_ids, id_range=id_range)


def customers_at(settings: Settings, cutoff: date, *, in_force_from_bills: bool) -> pd.DataFrame:
    """Customers whose contract runs at `cutoff`, with `CUSTOMER_COLUMNS`.

    ``tariff_id`` is the contract's tariff now, or, with `in_force_from_bills`, the tariff
    of the cut-off month's bill (else the latest earlier bill): the tariff in force then.
    """
    customers = read_table(
        settings.lake_dir,
        Table.CUSTOMERS,
        columns=[*CUSTOMER_COLUMNS, "created_at", "closed_at"],
    )
    moment = pd.Timestamp(cutoff, tz=settings.timezone)
    active = (customers["created_at"] < moment) & (
        customers["closed_at"].isna() | (customers["closed_at"] >= moment)
    )
    customers = customers.loc[active, list(CUSTOMER_COLUMNS)].reset_index(drop=True)
    customers = customers.astype({"customer_id": str, "segment": str, "region": str})
    if in_force_from_bills:
        bills = read_table(
            settings.lake_dir,
            Table.BILLS,
            columns=["customer_id", "period", "tariff_id"],
            where="period <= ?",
            params=[f"{cutoff:%Y-%m}"],
        )
        latest = bills.sort_values("period").drop_duplicates("customer_id", keep="last")
        in_force = latest.set_index(latest["customer_id"].astype(str))["tariff_id"]
        customers["tariff_id"] = (
            customers["customer_id"].map(in_force).fillna(customers["tariff_id"])
        )
    customers["tariff_id"] = customers["tariff_id"].astype(str)
    return customers


def true_bills(
    settings: Settings,
    customers: pd.DataFrame,
    catalogue: TariffCatalogue,
    pairs: pd.DataFrame,
    cutoff: date,
    months: int,
) -> tuple[pd.DataFrame, str]:
    """Actual yuan and kWh of the `months` from `cutoff` per (customer, tariff) of `pairs`,
    only where every month is billed; and where they came from.

    The generator's truth (`tariff_bills`, the engine's bills of the real readings) is
    used when present; otherwise the actual readings are billed here the same way.
    """
    periods = [f"{add_months(cutoff, k):%Y-%m}" for k in range(months)]
    truth = truth_table(settings, "tariff_bills", period=periods)
    if truth is not None:
        rows = truth.merge(pairs, on=["customer_id", "tariff_id"])
        totals = rows.groupby(["customer_id", "tariff_id"]).agg(
            amount_cny=("amount_cny", "sum"), kwh=("kwh", "sum"), months=("period", "nunique")
        )
        totals = totals[totals["months"] == months].drop(columns="months").reset_index()
        return totals, "truth/tariff_bills"
    end = add_months(cutoff, months)
    readings = readings_between(
        settings, date(cutoff.year, 1, 1), end, customers["customer_id"].tolist()
    )
    readings["customer_id"] = readings["customer_id"].astype(str)
    ids = customers["customer_id"].astype(str).to_numpy()
    billed = bill_months(
        customers,
        catalogue,
        pairs,
        lambda at: (
            lambda _: HourlyReadings.from_frame(
                readings[readings["customer_id"].isin(set(ids[at]))], fill_missing=True
            )
        ),
        scenarios=["actual"],
        periods=(periods[0], periods[-1]),
    )
    covered = pd.to_datetime(readings["date"]).groupby(
        readings["customer_id"]
    ).max() >= pd.Timestamp(end - timedelta(days=1))
    billed = billed[billed["customer_id"].map(covered).fillna(False).astype(bool)]
    return billed.drop(columns="scenario").reset_index(drop=True), "bills of the actual readings"


def offer_examples(settings: Settings, catalogue: TariffCatalogue) -> pd.DataFrame:
    """Every past tariff offer with its forecast saving at the time, its profile snapshot,
    its label (accepted) and the generator's acceptance probability where known (oracle).

    A tariff suggestion whose item is the tariff in force is the advice to stay, not an
    offer to switch: its answer says nothing about taking a saving, and is left out."""
    offers = read_table(
        settings.lake_dir,
        Table.SUGGESTION_OUTCOMES,
        columns=["suggestion_id", "customer_id", "item_id", "channel", "shown_at", "outcome"],
        where="kind = ?",
        params=[str(SuggestionKind.TARIFF)],
    )
    if offers.empty:
        raise PowerhallError("no past tariff offers in suggestion_outcomes: nothing to learn from")
    offers = offers.astype({"customer_id": str, "item_id": str, "suggestion_id": str})
    local = offers["shown_at"].dt.tz_convert(settings.timezone)
    offers["cutoff"] = local.dt.tz_localize(None).dt.to_period("M").dt.start_time.dt.date
    parts = []
    for cutoff, part in offers.groupby("cutoff", sort=True):
        ids = sorted(set(part["customer_id"]))
        customers = customers_at(settings, cutoff, in_force_from_bills=True)
        customers = customers[customers["customer_id"].isin(ids)].reset_index(drop=True)
        hist = history(readings_before(settings, cutoff, ids), customers["customer_id"], cutoff)
        pairs = pd.concat(
            [
                customers[["customer_id", "tariff_id"]],
                part[["customer_id", "item_id"]].rename(columns={"item_id": "tariff_id"}),
            ]
        ).drop_duplicates()
        pairs = pairs[pairs["tariff_id"].isin([t.id for t in catalogue])]
        bills = bill_forecasts(
            hist, customers, catalogue, {"p50": np.ones(len(customers))}, pairs=pairs
        )
        amount = bills.set_index(["customer_id", "tariff_id"])["amount_cny"]
        current = customers.set_index("customer_id")["tariff_id"].reindex(part["customer_id"])
        mine = amount.reindex(pd.MultiIndex.from_arrays([part["customer_id"], current])).to_numpy()
        theirs = amount.reindex(
            pd.MultiIndex.from_arrays([part["customer_id"], part["item_id"]])
        ).to_numpy()
        span = pd.Series(hist.span_days, index=hist.customer_ids)
        parts.append(
            part.assign(
                current_tariff_id=current.to_numpy(),
                saving_cny=mine - theirs,
                saving_share=np.divide(
                    mine - theirs, mine, out=np.full(len(part), np.nan), where=mine > 0
                ),
                history_days=span.reindex(part["customer_id"]).to_numpy(dtype=float),
            )
        )
    examples = pd.concat(parts, ignore_index=True).dropna(subset=["saving_cny"])
    examples = examples[examples["item_id"] != examples["current_tariff_id"]]
    examples["channel_counter"] = (examples["channel"] == str(Channel.COUNTER)).astype(float)
    examples["label"] = (examples["outcome"] == str(Outcome.ACCEPTED)).astype(int)
    examples = add_derived(with_snapshot(settings, examples))
    truth = truth_table(settings, "suggestions")
    oracle = None if truth is None else truth.set_index("suggestion_id")["p_accept"]
    examples["oracle"] = (
        np.nan if oracle is None else examples["suggestion_id"].map(oracle).astype(float)
    )
    return examples.sort_values(["shown_at", "suggestion_id"], ignore_index=True)


def with_snapshot(settings: Settings, offers: pd.DataFrame) -> pd.DataFrame:
    """Each offer with the `PROFILE_FEATURES` of the customer's latest snapshot before it."""
    profiles = load_profiles(settings.offline_dir, PROFILE_VIEWS)
    profiles = profiles[[*KEYS, *PROFILE_FEATURES]].astype({"customer_id": str})
    profiles["event_timestamp"] = profiles["event_timestamp"].astype("datetime64[ns, UTC]")
    profiles = profiles.sort_values("event_timestamp", kind="stable")
    left = offers.assign(shown_at=offers["shown_at"].astype("datetime64[ns, UTC]"))
    left = left.sort_values("shown_at", kind="stable")
    merged = pd.merge_asof(
        left,
        profiles,
        left_on="shown_at",
        right_on="event_timestamp",
        by="customer_id",
        direction="backward",
    )
    merged[list(PROFILE_FEATURES)] = merged[list(PROFILE_FEATURES)].astype("float64")
    return merged.drop(columns="event_timestamp")
