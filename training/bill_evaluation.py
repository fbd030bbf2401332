"""The bill forecast against what actually happened: the bills of the lake.

For each of the last `months` whole months of the data and each day of `days` (the 10th
and the 20th), every customer billed that month is forecast from the readings before
that day, by the forecast (`Method.RECENT`, with its measured band) and by the two naive
methods (the month-to-date run rate; last year's same days scaled), each billed by the
same tariff engine under the tariff of the customer's actual bill. Reported per day and
method: the mean absolute percentage error of the month's bill (MAPE) and its median,
the share of actual bills inside the P10-P90 band, the error in days of the forecast tier
crossings that happened, and how well a bill alert (`ContactPolicy.bill_shock` of the
forecast against the usual bill) foresaw the bill shocks that came.

Bills under `MIN_ACTUAL_CNY` (vacant premises) are left out of the percentages: a few
yuan off on an empty flat is a large percentage and no customer's concern.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import numpy as np
import pandas as pd

from powerhall.contract import Table
from powerhall.errors import ContractError
from powerhall.lake import read_table
from powerhall.settings import Settings
from powerhall.tariffs import TariffCatalogue, load_catalogue
from training.bill_forecast import (
    NO_BAND,
    Cube,
    Method,
    forecast_bills,
    measure_band,
    month_end,
    tier_crossing,
    usual_bills,
)
from training.datasets import data_bounds
from training.tariff_data import readings_between
from training.tariff_forecast import add_months

EVALUATION_MONTHS: Final = 12
EVALUATION_DAYS: Final = (10, 20)
MIN_ACTUAL_CNY: Final = 10.0
CHUNK_CUSTOMERS: Final = 1_000
"""Customers evaluated at once: a dense cube of about 0.15 MB per customer-year."""
HORIZON_COLUMNS: Final = ("tier_cross_date", "tier_cross_earliest", "tier_cross_latest")


@dataclass(frozen=True)
class BillEvaluation:
    rows: pd.DataFrame
    """One row per customer, month, day and method: forecast, band, actual, usual."""
    summary: pd.DataFrame
    """One row per day and method (see `summarise`)."""
    months: tuple[str, ...]


def evaluation_months(last_reading: date, last_period: str, months: int) -> list[date]:
    """First days of the last `months` months that the readings cover whole and that are
    billed (a month's bill is issued in the next month: the last one may not be yet)."""
    last = last_reading.replace(day=1)
    if (last_reading + timedelta(days=1)).month == last_reading.month:
        last = add_months(last, -1)
    last = min(last, date.fromisoformat(f"{last_period}-01"))
    return [add_months(last, -k) for k in range(months - 1, -1, -1)]


def evaluate(
    settings: Settings,
    *,
    months: int = EVALUATION_MONTHS,
    days: Sequence[int] = EVALUATION_DAYS,
    catalogue: TariffCatalogue | None = None,
) -> BillEvaluation:
    """Forecast every billed customer on `days` of the last `months` months; score them."""
    if months < 1 or not days or not all(1 <= d <= 28 for d in days):
        raise ContractError(f"evaluate months >= 1 and days within 1-28, not {months}, {days}")
    catalogue = catalogue or load_catalogue()
    first_reading, last_reading = data_bounds(settings.lake_dir)
    customers = read_table(
        settings.lake_dir,
        Table.CUSTOMERS,
        columns=["customer_id", "segment", "contract_capacity_kva"],
    ).astype({"customer_id": str})
    bills = read_table(
        settings.lake_dir,
        Table.BILLS,
        columns=["customer_id", "period", "amount_cny", "tariff_id"],
    ).astype({"customer_id": str, "tariff_id": str})
    if bills.empty:
        raise ContractError(f"{settings.lake_dir / Table.BILLS} holds no bills to compare with")
    firsts = evaluation_months(last_reading, str(bills["period"].max()), months)
    order = np.sort(customers["customer_id"].unique())
    end = last_reading + timedelta(days=1)
    parts = []
    for at in range(0, len(order), CHUNK_CUSTOMERS):
        chunk = order[at : at + CHUNK_CUSTOMERS]
        readings = readings_between(
            settings, first_reading, end, id_range=(str(chunk[0]), str(chunk[-1]))
        )
        cube = Cube.from_frame(readings, chunk, first_reading, end)
        mine = customers[customers["customer_id"].isin(set(chunk))]
        for first in firsts:
            for day in days:
                parts.append(_evaluate_day(cube, mine, bills, catalogue, first.replace(day=day)))
    rows = pd.concat(parts, ignore_index=True)
    return BillEvaluation(
        rows,
        summarise(rows, settings),
        tuple(f"{first:%Y-%m}" for first in firsts),
    )


def _evaluate_day(
    cube: Cube,
    customers: pd.DataFrame,
    bills: pd.DataFrame,
    catalogue: TariffCatalogue,
    as_of: date,
) -> pd.DataFrame:
    month = f"{as_of:%Y-%m}"
    billed = bills[(bills["period"] == month) & bills["tariff_id"].isin([t.id for t in catalogue])]
    billed = billed.merge(customers, on="customer_id").set_index("customer_id")
    if billed.empty:
        return pd.DataFrame()
    who = billed.reset_index()[["customer_id", "tariff_id", "contract_capacity_kva"]]
    usual = usual_bills(bills, month)
    actual_cross = _actual_crossings(cube, who, catalogue, as_of)
    band = measure_band(
        cube.rows(pd.Index(cube.customer_ids).get_indexer(who["customer_id"])), as_of
    )
    parts = []
    for method in Method:
        forecast = forecast_bills(
            cube,
            who,
            catalogue,
            as_of,
            method=method,
            band=band if method is Method.RECENT else NO_BAND,
        )
        forecast = forecast[forecast["reason"] == ""].set_index("customer_id")
        ids = forecast.index
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": ids,
                    "segment": billed.loc[ids, "segment"].to_numpy(),
                    "month": month,
                    "day": as_of.day,
                    "method": str(method),
                    "forecast_cny": forecast["bill_forecast_cny"].to_numpy(),
                    "p10_cny": forecast["bill_forecast_p10_cny"].to_numpy(),
                    "p90_cny": forecast["bill_forecast_p90_cny"].to_numpy(),
                    "actual_cny": billed.loc[ids, "amount_cny"].to_numpy(dtype=float),
                    "usual_cny": usual.reindex(ids).to_numpy(dtype=float),
                    "cross_forecast": forecast["tier_cross_date"].to_numpy(),
                    "cross_actual": actual_cross.reindex(ids).to_numpy(),
                    "band_samples": band.samples,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _actual_crossings(
    cube: Cube, who: pd.DataFrame, catalogue: TariffCatalogue, as_of: date
) -> pd.Series:
    """The day each customer's actual readings passed into the next tier, from `as_of` to
    the month's end (NaT: they did not)."""
    found = []
    ids = pd.Index(cube.customer_ids)
    today, end = cube.index(as_of), cube.index(month_end(as_of))
    for tariff_id, part in who.groupby("tariff_id"):
        tariff = catalogue.get(str(tariff_id))
        rows = ids.get_indexer(part["customer_id"])
        daily = np.nansum(cube.kwh[rows, today:end], axis=2)
        _, cross = tier_crossing(cube.rows(rows), tariff, as_of, daily)
        found.append(pd.Series(cross, index=part["customer_id"].to_numpy()))
    return pd.concat(found) if found else pd.Series(dtype="datetime64[D]")


def summarise(rows: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Per day and method: customers scored, MAPE, median APE and mean signed error (%) of
    the month's bill, P10-P90 coverage, tier crossings of the month found and their error
    in days, and the bill alert's precision and recall on the shocks that came."""
    policy = settings.contact_policy
    scored = rows[rows["actual_cny"] >= MIN_ACTUAL_CNY]
    out = []
    for (day, method), part in scored.groupby(["day", "method"], sort=True):
        error = (part["forecast_cny"] - part["actual_cny"]) / part["actual_cny"]
        banded = part["p10_cny"].notna()
        inside = (part["p10_cny"] <= part["actual_cny"]) & (part["actual_cny"] <= part["p90_cny"])
        month_end_day = pd.to_datetime(part["month"]) + pd.offsets.MonthBegin(1)
        crossed = part["cross_actual"].notna()
        found = crossed & (pd.to_datetime(part["cross_forecast"]) < month_end_day)
        days_off = (
            pd.to_datetime(part.loc[found, "cross_forecast"])
            - pd.to_datetime(part.loc[found, "cross_actual"])
        ).dt.days.abs()
        known = part[part["usual_cny"].notna()]
        alert = np.array(
            [
                policy.bill_shock(f, u)
                for f, u in zip(known["forecast_cny"], known["usual_cny"], strict=True)
            ],
            dtype=bool,
        )
        shock = np.array(
            [
                policy.bill_shock(a, u)
                for a, u in zip(known["actual_cny"], known["usual_cny"], strict=True)
            ],
            dtype=bool,
        )
        out.append(
            {
                "day": day,
                "method": method,
                "bills": len(part),
                "mape_pct": 100 * error.abs().mean(),
                "median_ape_pct": 100 * error.abs().median(),
                "bias_pct": 100 * error.mean(),
                "band_coverage": inside[banded].mean() if banded.any() else np.nan,
                "crossings": int(crossed.sum()),
                "crossings_found": found.sum() / crossed.sum() if crossed.any() else np.nan,
                "crossing_mae_days": days_off.mean() if len(days_off) else np.nan,
                "shocks": int(shock.sum()),
                "alerts": int(alert.sum()),
                "alert_precision": (alert & shock).sum() / alert.sum() if alert.any() else np.nan,
                "alert_recall": (alert & shock).sum() / shock.sum() if shock.any() else np.nan,
            }
        )
    return pd.DataFrame(out)
