"""Tariffs as data: tariff files, the catalogue of shipped tariffs and the bill engine.

    from powerhall.tariffs import bill_by_month, load_catalogue

    tariff = load_catalogue().get("shanghai-res-tou")
    monthly = bill_by_month(tariff, readings)  # one row per customer and month

See `powerhall.tariffs.schema` for the file format, `powerhall.tariffs.engine` for how a
bill is computed (tiers, time of use, monthly charges, missing hours, rounding) and
``powerhall/tariffs/files/README.md`` for updating a tariff from a new notice.
"""

from powerhall.tariffs.catalogue import TariffCatalogue, load_catalogue, shipped_directory
from powerhall.tariffs.engine import (
    MONTHLY_BILL_COLUMNS,
    Bill,
    BillItem,
    bill,
    bill_by_month,
    compare_tariffs,
)
from powerhall.tariffs.hourly import HourlyReadings
from powerhall.tariffs.schema import Tariff, load_tariff

__all__ = [
    "MONTHLY_BILL_COLUMNS",
    "Bill",
    "BillItem",
    "HourlyReadings",
    "Tariff",
    "TariffCatalogue",
    "bill",
    "bill_by_month",
    "compare_tariffs",
    "load_catalogue",
    "load_tariff",
    "shipped_directory",
]
