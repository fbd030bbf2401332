"""Batch tariff advice for every active customer, for the scores view.

The forecast starts at the first month without a whole month of readings (the data's
"now"), so only readings before it are used. Every eligible tariff is billed at the
champion's P10/P50/P90 volumes, each candidate gets its acceptance probability at the
counter (where tariff offers are made and explained), and `advise` picks the answer.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa

from powerhall.settings import Settings
from powerhall.tariffs import TariffCatalogue, load_catalogue
from training.datasets import data_bounds
from training.registry import CHAMPION
from training.tariff_acceptance import PROFILE_FEATURES, AcceptanceModel, add_derived
from training.tariff_data import customers_at, month_start, readings_before
from training.tariff_fit import NAME
from training.tariff_forecast import history
from training.tariff_options import Advice, advise, bill_forecasts, savings

FIELDS: Final = (
    pa.field("best_tariff_id", pa.string()),
    pa.field("best_tariff_saving_cny_365d", pa.float64()),
    pa.field("best_tariff_saving_p10_cny", pa.float64()),
    pa.field("best_tariff_saving_p90_cny", pa.float64()),
    pa.field("best_tariff_acceptance", pa.float64()),
    pa.field("best_tariff_bill_risk_cny", pa.float64()),
    pa.field("tariff_advice", pa.string()),
)
"""The scores-view columns tariff_fit fills, in the view's order."""
COLUMNS: Final = tuple(f.name for f in FIELDS)
CHUNK_CUSTOMERS: Final = 2_500
"""Customers advised at once: about 0.7 MB of working memory each (a year of hours)."""


def arrow_columns(advice: pd.DataFrame | None, n: int) -> dict[str, pa.Array]:
    """`FIELDS` from `tariff_advice` output (rows in scoring order), or nulls without it."""
    if advice is None:
        return {f.name: pa.nulls(n, f.type) for f in FIELDS}
    return {f.name: pa.array(advice[f.name], f.type, from_pandas=True) for f in FIELDS}


def load_champion(name: str = NAME) -> tuple[str, AcceptanceModel] | None:
    """(version, model) of the registry's champion, or None when there is none."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        version = str(MlflowClient().get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException:
        return None
    loaded = mlflow.pyfunc.load_model(f"models:/{name}@{CHAMPION}")
    return version, loaded.unwrap_python_model().model


def scoring_cutoff(last_reading: date) -> date:
    """The first month the readings do not wholly cover."""
    return month_start(last_reading + timedelta(days=1))


def tariff_advice(
    profiles: pd.DataFrame,
    model: AcceptanceModel,
    settings: Settings,
    catalogue: TariffCatalogue | None = None,
) -> pd.DataFrame:
    """`COLUMNS` (and ``reason``) for each row of `profiles` (latest snapshots), in order.

    Customers are advised in chunks of `CHUNK_CUSTOMERS` (by id), each reading only its own
    readings, so memory stays bounded whatever the number of customers.
    """
    catalogue = catalogue or load_catalogue()
    cutoff = scoring_cutoff(data_bounds(settings.lake_dir)[1])
    ids = profiles["customer_id"].astype(str)
    customers = customers_at(settings, cutoff, in_force_from_bills=False)
    profile = profiles.assign(customer_id=ids).set_index("customer_id")[list(PROFILE_FEATURES)]
    order = np.sort(ids.unique())
    parts = []
    for start in range(0, len(order), CHUNK_CUSTOMERS):
        chunk = order[start : start + CHUNK_CUSTOMERS]
        mine = customers[customers["customer_id"].isin(set(chunk))].reset_index(drop=True)
        parts.append(_advise(chunk, mine, profile, model, settings, catalogue, cutoff))
    answers = pd.concat(parts).set_index("customer_id").reindex(ids)
    unknown = answers["tariff_advice"].isna()  # no contract running at the cut-off
    answers.loc[unknown, "tariff_advice"] = Advice.INSUFFICIENT_DATA.value
    answers.loc[unknown, "reason"] = f"no readings before {cutoff}"
    return answers.reset_index()[["customer_id", *COLUMNS, "reason"]]


def _advise(
    ids: np.ndarray,
    customers: pd.DataFrame,
    profile: pd.DataFrame,
    model: AcceptanceModel,
    settings: Settings,
    catalogue: TariffCatalogue,
    cutoff: date,
) -> pd.DataFrame:
    readings = readings_before(settings, cutoff, id_range=(str(ids[0]), str(ids[-1])))
    hist = history(readings, ids, cutoff)
    volumes = model.band.volumes(customers["segment"])
    options = savings(bill_forecasts(hist, customers, catalogue, volumes), customers, catalogue)
    span = pd.Series(hist.span_days, index=hist.customer_ids)
    inputs = add_derived(options.join(profile, on="customer_id")).assign(
        saving_cny=options["saving_p50"],
        channel_counter=1.0,
        history_days=options["customer_id"].map(span).astype(float),
    )
    options["acceptance"] = model.probability(inputs) if len(inputs) else np.zeros(0)
    return advise(
        hist,
        customers,
        options,
        min_saving_cny=settings.tariff_min_saving_cny,
        vacant_kwh_per_day=settings.tariff_vacant_kwh_per_day,
    )
