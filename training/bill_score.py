"""Batch bill forecasts of every active customer, for the scores view.

The forecast is made on the day after the last reading of the lake (the data's "today")
for that day's month, under the customer's current tariff, with the band measured on the
same customers (`training.bill_forecast`). Beside it: the usual bill (from the bills
table), the next tier and the day it is forecast to be reached (P50, earliest at the
P90 volume, latest at the P10) and why the month is up (`explain`). Whether that makes an
alert is the suggestion engine's call (`ContactPolicy.bill_shock`, the tier days), made
on the serving day, so that a forecast of a month gone by never alerts.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa

from powerhall.contract import Table
from powerhall.lake import read_table
from powerhall.settings import Settings
from powerhall.tariffs import TariffCatalogue, load_catalogue
from training.bill_forecast import (
    BAND_MONTHS,
    RECENT_DAYS,
    YEAR_DAYS,
    Cube,
    explain,
    forecast_bills,
    measure_band,
    usual_bills,
)
from training.datasets import data_bounds
from training.tariff_data import readings_between
from training.tariff_forecast import add_months

FIELDS: Final = (
    pa.field("bill_forecast_month", pa.string()),
    pa.field("bill_forecast_cny", pa.float64()),
    pa.field("bill_forecast_p10_cny", pa.float64()),
    pa.field("bill_forecast_p90_cny", pa.float64()),
    pa.field("bill_usual_cny", pa.float64()),
    pa.field("tier_next", pa.int64()),
    pa.field("tier_cross_date", pa.string()),
    pa.field("tier_cross_earliest", pa.string()),
    pa.field("tier_cross_latest", pa.string()),
    pa.field("bill_alert_reason", pa.string()),
)
"""The scores-view columns of the bill forecast, in the view's order."""
COLUMNS: Final = tuple(f.name for f in FIELDS)
DATE_COLUMNS: Final = ("tier_cross_date", "tier_cross_earliest", "tier_cross_latest")
APPLIANCES: Final = ("has_ev_charger", "has_air_conditioning", "has_electric_heating")
CHUNK_CUSTOMERS: Final = 1_000
"""Customers forecast at once: about 0.1 MB each of dense readings (16 months of hours);
the band is measured on each chunk's customers."""


def arrow_columns(forecasts: pd.DataFrame | None, n: int) -> dict[str, pa.Array]:
    """`FIELDS` from `bill_forecasts` output (rows in scoring order), or nulls without it."""
    if forecasts is None:
        return {f.name: pa.nulls(n, f.type) for f in FIELDS}
    return {f.name: pa.array(forecasts[f.name], f.type, from_pandas=True) for f in FIELDS}


def forecast_day(last_reading: date) -> date:
    """The data's "today": the first day without readings."""
    return last_reading + timedelta(days=1)


def readings_start(as_of: date) -> date:
    """The first day a forecast on `as_of` reads: the year's first day (tiers), or the
    recent windows of the band's months a year earlier (the seasonal factor)."""
    band_first = add_months(as_of.replace(day=1), -BAND_MONTHS)
    return min(date(as_of.year, 1, 1), band_first - timedelta(days=YEAR_DAYS + RECENT_DAYS))


def bill_forecasts(
    profiles: pd.DataFrame, settings: Settings, catalogue: TariffCatalogue | None = None
) -> pd.DataFrame:
    """`COLUMNS` (and ``reason``: why there is no forecast) for each row of `profiles`
    (latest snapshots, with the appliance flags), in order."""
    catalogue = catalogue or load_catalogue()
    as_of = forecast_day(data_bounds(settings.lake_dir)[1])
    month = f"{as_of:%Y-%m}"
    ids = profiles["customer_id"].astype(str)
    customers = read_table(
        settings.lake_dir,
        Table.CUSTOMERS,
        columns=["customer_id", "tariff_id", "contract_capacity_kva"],
    ).astype({"customer_id": str, "tariff_id": str})
    bills = read_table(
        settings.lake_dir,
        Table.BILLS,
        columns=["customer_id", "period", "amount_cny"],
        where="period >= ? AND period < ?",
        params=[f"{add_months(as_of.replace(day=1), -12):%Y-%m}", month],
    )
    appliances = profiles.assign(customer_id=ids).set_index("customer_id")
    appliances = appliances[[name for name in APPLIANCES if name in appliances.columns]]
    order = np.sort(ids.unique())
    parts = []
    for start in range(0, len(order), CHUNK_CUSTOMERS):
        chunk = order[start : start + CHUNK_CUSTOMERS]
        mine = customers[customers["customer_id"].isin(set(chunk))]
        readings = readings_between(
            settings, readings_start(as_of), as_of, id_range=(str(chunk[0]), str(chunk[-1]))
        )
        cube = Cube.from_frame(readings, chunk, readings_start(as_of), as_of)
        forecast = forecast_bills(cube, mine, catalogue, as_of, band=measure_band(cube, as_of))
        forecast["bill_alert_reason"] = explain(cube, as_of, forecast, appliances)
        parts.append(forecast)
    found = pd.concat(parts).set_index("customer_id").reindex(ids)
    out = pd.DataFrame(
        {
            "customer_id": ids.to_numpy(),
            "bill_forecast_month": month,
            **{
                name: found[name].to_numpy(dtype=float)
                for name in ("bill_forecast_cny", "bill_forecast_p10_cny", "bill_forecast_p90_cny")
            },
            "bill_usual_cny": usual_bills(bills, month).reindex(ids).to_numpy(dtype=float),
            "tier_next": found["tier_next"].astype("Int64").to_numpy(),
            **{name: found[name].dt.strftime("%Y-%m-%d").to_numpy() for name in DATE_COLUMNS},
            "bill_alert_reason": found["bill_alert_reason"].to_numpy(),
            "reason": found["reason"].fillna(f"no readings before {as_of}").to_numpy(),
        }
    )
    unforecast = out["reason"] != ""
    out.loc[unforecast, "bill_forecast_month"] = None
    out.loc[unforecast, "bill_alert_reason"] = None
    return out
