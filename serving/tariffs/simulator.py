"""Tariff comparison and what-if for one customer, as the API answers them.

Both answers are the tariff advice of `powerhall score`, made for one customer at the
moment it is asked: the next 12 months forecast from the last year of readings
(`training.tariff_forecast`), billed by the tariff engine under every eligible tariff at
the volume band of the tariff_fit champion (`training.tariff_options.bill_forecasts`),
with the same savings, time-of-use bill risk and safeguards (`savings`, `advise`). So the
counter's tariff suggestion, the comparison and the simulator never disagree. The
simulator bills the forecast once more with the habit change made (`whatif`).

Reading a customer's year from the lake costs far more than billing it (the lake is laid
out for batch reads); a comparison is usually followed by several simulations as staff
try shares, so each customer's summarised readings are kept (`CACHE_CUSTOMERS`, least
recently used first out) until the lake's readings change.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final

import numpy as np
import pandas as pd

from powerhall.contract import KWH_COLUMNS, Table
from powerhall.errors import InvalidRequestError, NotFoundError
from powerhall.settings import Settings
from powerhall.tariffs import Tariff, TariffCatalogue
from powerhall.tariffs.hourly import CUSTOMER_ID, DATE
from serving.schemas import CustomerPublic
from serving.suggestions.texts import EN, yuan
from serving.tariffs.schemas import (
    CompareAnswer,
    ReadingIn,
    ReadingsUsed,
    SimulateAnswer,
    SimulatedBill,
    TariffAnswer,
    TariffBill,
)
from serving.tariffs.texts import reason
from serving.tariffs.whatif import Shift, charges_ev, ev_charging_kwh, shift_history, valley_hours
from training.tariff_data import readings_between
from training.tariff_forecast import (
    HISTORY_DAYS,
    LOOKBACK_DAYS,
    MIN_COVERAGE,
    MIN_HISTORY_DAYS,
    History,
    add_months,
    history,
)
from training.tariff_options import Advice, Band, advise, bill_forecasts, savings
from training.tariff_score import scoring_cutoff

logger = logging.getLogger(__name__)

CACHE_CUSTOMERS: Final = 256
"""Customers whose summarised readings are kept: a few hundred kB each, and a hall sees
far fewer customers than this between two ingests."""
READINGS_CUSTOMER: Final = "readings"
"""The customer id readings sent in a body are billed under."""
FORECAST_MONTHS: Final = 12
_SAVINGS: Final = {
    "saving_cny": "saving_p50",
    "saving_p10_cny": "saving_p10",
    "saving_p90_cny": "saving_p90",
    "bill_risk_cny": "bill_risk_cny",
}
"""Answer field -> `savings` column."""
_OPTION_COLUMNS: Final = (
    "customer_id",
    "tariff_id",
    "saving_p50",
    "saving_p10",
    "saving_p90",
    "bill_risk_cny",
)


@dataclass(frozen=True)
class Terms:
    """What a customer's tariffs depend on: from the directory, or sent with readings."""

    customer_id: str
    segment: str
    region: str
    tariff_id: str | None
    contract_capacity_kva: float | None


@dataclass(frozen=True)
class Prepared:
    """A customer's readings summarised for the forecast (see `prepare`)."""

    history: History
    ev: History | None
    """The same summary of the EV charging sessions' kWh; None when there are none."""
    ev_detected: bool
    """The profile's EV rule on these readings (used when the profile is not at hand)."""
    first_day: date
    last_day: date
    evaluations: dict[tuple[Terms, tuple[str, ...]], _Evaluation] = field(
        default_factory=dict, compare=False, repr=False
    )
    """Answers already billed from these readings, by terms and tariffs: a simulation
    after a comparison (or another share) bills only the shifted forecast again."""


def prepare(readings: pd.DataFrame, customer_id: str) -> Prepared | None:
    """Summarise one customer's readings (contract columns) before the forecast's cut-off,
    the first month they do not wholly cover; None without any reading."""
    if readings.empty:
        return None
    days = pd.to_datetime(readings[DATE]).to_numpy().astype("datetime64[D]")
    cutoff = scoring_cutoff(days.max().item())
    ids = np.array([customer_id], dtype=object)
    hist = history(readings, ids, cutoff)
    before = days < np.datetime64(cutoff, "D")
    used = before & (days >= np.datetime64(cutoff, "D") - HISTORY_DAYS)
    if not used.any():
        used = days == days.max()
    kwh = readings[list(KWH_COLUMNS)].to_numpy(dtype=float, na_value=np.nan)
    ev_kwh = ev_charging_kwh(kwh)
    ev = None
    if np.nansum(ev_kwh[before]) > 0:
        sessions = readings[[CUSTOMER_ID, DATE]].reset_index(drop=True)
        sessions[list(KWH_COLUMNS)] = ev_kwh
        ev = history(sessions, ids, cutoff)
    return Prepared(
        history=hist,
        ev=ev,
        ev_detected=charges_ev(ev_kwh[before], days[before], cutoff),
        first_day=days[used].min().item(),
        last_day=days[used].max().item(),
    )


def readings_frame(readings: Sequence[ReadingIn], customer_id: str, timezone: str) -> pd.DataFrame:
    """Hourly readings as contract rows (one per local day; hours not sent are missing)."""
    local = pd.to_datetime([r.ts for r in readings], utc=True).tz_convert(timezone)
    days, row = np.unique(local.tz_localize(None).normalize().to_numpy(), return_inverse=True)
    kwh = np.full((len(days), 24), np.nan)
    kwh[row, local.hour.to_numpy()] = [r.kwh for r in readings]
    frame = pd.DataFrame(kwh, columns=list(KWH_COLUMNS))
    frame.insert(0, DATE, days)
    frame.insert(0, CUSTOMER_ID, customer_id)
    return frame


@dataclass(frozen=True)
class _Evaluation:
    """The forecast billed under the tariffs of a request, and the advice it gives."""

    customers: pd.DataFrame
    pairs: pd.DataFrame
    bills: pd.DataFrame  # customer_id, tariff_id, scenario, amount_cny, kwh
    options: pd.DataFrame  # `savings` rows, one per billed tariff but the current one
    advice: Advice | None
    best_tariff_id: str | None


class TariffSimulator:
    """Compares and simulates for one customer at a time; safe to share between requests
    (the readings cache is locked)."""

    def __init__(
        self,
        catalogue: TariffCatalogue,
        settings: Settings,
        *,
        band: Band | None = None,
        band_version: str | None = None,
        cache_customers: int = CACHE_CUSTOMERS,
    ) -> None:
        self.catalogue = catalogue
        self.settings = settings
        self.band = band
        self.band_version = band_version
        self._cache: OrderedDict[tuple[str, tuple[tuple[str, int], ...]], Prepared | None] = (
            OrderedDict()
        )
        self._cache_customers = cache_customers
        self._lock = threading.Lock()

    def tariffs(self, terms: Terms, tariff_ids: Sequence[str] | None = None) -> list[Tariff]:
        """The tariffs to bill: the eligible ones (or those of `tariff_ids`, each of which
        must be eligible), then the current tariff when it is in the catalogue."""
        eligible = self.catalogue.eligible(segment=terms.segment, region=terms.region)
        if not eligible:
            raise NotFoundError(
                f"no tariff in the catalogue for segment {terms.segment} and region {terms.region}"
            )
        chosen = eligible
        if tariff_ids is not None:
            open_ids = {t.id for t in eligible}
            if unknown := sorted(set(tariff_ids) - {t.id for t in self.catalogue}):
                raise InvalidRequestError(f"tariff_ids: unknown tariff(s) {', '.join(unknown)}")
            if closed := sorted(set(tariff_ids) - open_ids):
                raise InvalidRequestError(
                    f"tariff_ids: {', '.join(closed)} not open to {terms.segment} customers "
                    f"in {terms.region}; eligible: {', '.join(sorted(open_ids))}"
                )
            chosen = [t for t in eligible if t.id in set(tariff_ids)]
        current = terms.tariff_id
        if (
            current is not None
            and current in self.catalogue
            and current not in {t.id for t in chosen}
        ):
            chosen = [*chosen, self.catalogue.get(current)]
        if terms.contract_capacity_kva is None and (
            needing := [
                t.id
                for t in chosen
                if t.demand_charge is not None and t.demand_charge.basis == "capacity_kva"
            ]
        ):
            raise InvalidRequestError(
                f"contract_capacity_kva is needed to bill {', '.join(needing)} (a charge per "
                "kVA of contract capacity)"
            )
        return chosen

    def lake_readings(self, customer_id: str) -> Prepared | None:
        """The customer's readings from the lake, summarised (kept until they change)."""
        version = self._lake_version()
        key = (customer_id, version)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        prepared = prepare(self.read(customer_id, version), customer_id)
        with self._lock:
            self._cache[key] = prepared
            while len(self._cache) > self._cache_customers:
                self._cache.popitem(last=False)
        return prepared

    def compare(
        self,
        terms: Terms,
        prepared: Prepared | None,
        tariffs: list[Tariff],
        *,
        language: str,
        customer: CustomerPublic | None = None,
    ) -> CompareAnswer:
        evaluation = self._evaluate(terms, prepared, tariffs)
        rows = self._rows(terms, evaluation, tariffs, language)
        header = self._header(terms, prepared, evaluation, language, customer)
        return CompareAnswer(**dict(header), tariffs=rows)

    def simulate(
        self,
        terms: Terms,
        prepared: Prepared | None,
        tariffs: list[Tariff],
        shift: Shift,
        *,
        has_ev: bool | None,
        language: str,
        customer: CustomerPublic | None = None,
    ) -> SimulateAnswer:
        """`has_ev`: the profile's ``has_ev_charger`` (None: unknown, the readings decide)."""
        evaluation = self._evaluate(terms, prepared, tariffs)
        charger = bool(
            prepared is not None and (prepared.ev_detected if has_ev is None else has_ev)
        )
        valley = valley_hours(tariffs)
        moved_kwh = 0.0
        ev_hours: tuple[int, ...] = ()
        simulated: list[SimulatedBill] = []
        if prepared is not None and evaluation.advice != Advice.INSUFFICIENT_DATA:
            shifted = shift_history(
                prepared.history, prepared.ev if charger else None, shift, valley
            )
            again = bill_forecasts(
                shifted.history,
                evaluation.customers,
                self.catalogue,
                {"p50": np.ones(1)},
                months=FORECAST_MONTHS,
                pairs=evaluation.pairs,
            )
            after = again.set_index("tariff_id")["amount_cny"]
            current = self._current_p50(terms, evaluation)
            for row in self._rows(terms, evaluation, tariffs, language):
                bill = round(float(after[row.tariff_id]), 2)
                saving = None if row.saving_cny is None or current is None else current - bill
                simulated.append(
                    SimulatedBill(
                        **row.model_dump(),
                        bill_shifted_cny=bill,
                        saving_shifted_cny=None if saving is None else round(saving, 2),
                    )
                )
            moved_kwh, ev_hours = round(shifted.moved_kwh, 1), shifted.ev_hours
        header = self._header(terms, prepared, evaluation, language, customer)
        return SimulateAnswer(
            **dict(header),
            shift=shift,
            moved_kwh=moved_kwh,
            valley_hours=[int(h) for h in np.flatnonzero(valley.all(axis=0))],
            ev_charger=charger,
            ev_charging_hours=list(ev_hours),
            tariffs=simulated,
        )

    def _evaluate(
        self, terms: Terms, prepared: Prepared | None, tariffs: list[Tariff]
    ) -> _Evaluation:
        if prepared is None:
            return self._evaluated(terms, None, tariffs)
        key = (terms, tuple(t.id for t in tariffs))
        if key not in prepared.evaluations:
            prepared.evaluations[key] = self._evaluated(terms, prepared, tariffs)
        return prepared.evaluations[key]

    def _evaluated(
        self, terms: Terms, prepared: Prepared | None, tariffs: list[Tariff]
    ) -> _Evaluation:
        current = terms.tariff_id if terms.tariff_id in self.catalogue else None
        customers = pd.DataFrame(
            {
                "customer_id": [terms.customer_id],
                "segment": [terms.segment],
                "region": [terms.region],
                "tariff_id": [current or ""],
                "contract_capacity_kva": [
                    np.nan if terms.contract_capacity_kva is None else terms.contract_capacity_kva
                ],
            }
        )
        pairs = pd.DataFrame(
            {"customer_id": terms.customer_id, "tariff_id": [t.id for t in tariffs]}
        )
        empty = pd.DataFrame({c: [] for c in _OPTION_COLUMNS})
        if prepared is None:
            return _Evaluation(customers, pairs, empty, empty, Advice.INSUFFICIENT_DATA, None)
        hist = prepared.history
        if hist.missing_data()[0]:
            return _Evaluation(customers, pairs, empty, empty, Advice.INSUFFICIENT_DATA, None)
        volumes = self.band.volumes(customers["segment"]) if self.band else {"p50": np.ones(1)}
        bills = bill_forecasts(
            hist, customers, self.catalogue, volumes, months=FORECAST_MONTHS, pairs=pairs
        )
        options = savings(bills, customers, self.catalogue) if current else empty
        decided = advise(
            hist,
            customers,
            options,
            min_saving_cny=self.settings.tariff_min_saving_cny,
            vacant_kwh_per_day=self.settings.tariff_vacant_kwh_per_day,
        ).iloc[0]
        advice: Advice | None = Advice(decided["tariff_advice"])
        if current is None and advice == Advice.STAY:
            advice = None  # nothing to stay on: bills only
        best = decided["best_tariff_id"] if advice in (Advice.SWITCH, Advice.STAY) else None
        return _Evaluation(customers, pairs, bills, options, advice, best)

    def _current_p50(self, terms: Terms, evaluation: _Evaluation) -> float | None:
        mine = evaluation.bills[
            (evaluation.bills["tariff_id"] == terms.tariff_id)
            & (evaluation.bills["scenario"] == "p50")
        ]
        return None if mine.empty else float(mine["amount_cny"].iloc[0])

    def _rows(
        self, terms: Terms, evaluation: _Evaluation, tariffs: list[Tariff], language: str
    ) -> list[TariffBill]:
        """One row per billed tariff, cheapest P50 first; savings only with advice."""
        if evaluation.bills.empty:
            return []
        amounts = evaluation.bills.pivot(index="tariff_id", columns="scenario", values="amount_cny")
        options = evaluation.options.set_index("tariff_id")
        advised = evaluation.advice in (Advice.SWITCH, Advice.STAY)
        rows = []
        for tariff in tariffs:
            bills = amounts.loc[tariff.id]
            is_current = tariff.id == terms.tariff_id
            saved: dict[str, float | None] = dict.fromkeys(_SAVINGS)
            if advised and is_current:
                saved = dict.fromkeys(_SAVINGS, 0.0) | {"bill_risk_cny": None}
            elif advised and tariff.id in options.index:
                saved = {k: round(float(options.at[tariff.id, c]), 2) for k, c in _SAVINGS.items()}
            rows.append(
                TariffBill(
                    tariff_id=tariff.id,
                    name=self._name(tariff.id, language),
                    time_of_use=tariff.is_time_of_use,
                    current=is_current,
                    bill_cny=round(float(bills["p50"]), 2),
                    bill_p10_cny=_scenario(bills, "p10"),
                    bill_p90_cny=_scenario(bills, "p90"),
                    **saved,
                )
            )
        return sorted(rows, key=lambda r: (r.bill_cny, r.tariff_id))

    def _header(
        self,
        terms: Terms,
        prepared: Prepared | None,
        evaluation: _Evaluation,
        language: str,
        customer: CustomerPublic | None,
    ) -> TariffAnswer:
        """The fields every answer shares: who, which readings, which months, the advice."""
        if prepared is None:
            used = ReadingsUsed(first_day=None, last_day=None, days=0, coverage=0.0)
            first_month = last_month = None
        else:
            hist = prepared.history
            used = ReadingsUsed(
                first_day=prepared.first_day,
                last_day=prepared.last_day,
                days=int(hist.span_days[0]),
                coverage=round(float(hist.coverage[0]), 4),
            )
            first_month = f"{hist.cutoff:%Y-%m}"
            last_month = f"{add_months(hist.cutoff, FORECAST_MONTHS - 1):%Y-%m}"
        return TariffAnswer(
            customer=customer,
            segment=terms.segment,
            region=terms.region,
            current_tariff_id=terms.tariff_id,
            language=language,
            readings=used,
            first_month=first_month,
            last_month=last_month,
            advice=evaluation.advice,
            best_tariff_id=evaluation.best_tariff_id,
            reason=self._reason(terms, prepared, evaluation, language),
            band_version=self.band_version,
        )

    def _reason(
        self, terms: Terms, prepared: Prepared | None, evaluation: _Evaluation, language: str
    ) -> str:
        """What the advice means for the customer, or what is missing for one."""
        if prepared is None:
            return reason("no_readings", language)
        hist = prepared.history
        advice = evaluation.advice
        if advice == Advice.INSUFFICIENT_DATA:
            days = int(hist.span_days[0])
            if days < MIN_HISTORY_DAYS:
                return reason("short", language, days=days, min_days=MIN_HISTORY_DAYS)
            return reason(
                "patchy",
                language,
                days=days,
                pct=f"{hist.coverage[0] * 100:.0f}",
                min_pct=f"{MIN_COVERAGE * 100:.0f}",
            )
        if advice == Advice.VACANT:
            kwh = float(np.nan_to_num(hist.kwh_per_day_90d[0]))
            return reason("vacant", language, kwh=f"{kwh:.2f}")
        if advice is None:
            if terms.tariff_id is None:
                return reason("no_current", language)
            return reason("unknown_current", language, tariff=terms.tariff_id)
        name = self._name(evaluation.best_tariff_id, language)
        if advice == Advice.STAY:
            return reason(
                "stay",
                language,
                min_saving=yuan(self.settings.tariff_min_saving_cny),
                tariff=name,
            )
        best = evaluation.options.set_index("tariff_id").loc[evaluation.best_tariff_id]
        low, high = float(best["saving_p10"]), float(best["saving_p90"])
        band = (
            reason("band", language, p10=yuan(low), p90=yuan(high))
            if round(low) != round(high)
            else ""
        )
        text = reason("switch", language, tariff=name, saving=yuan(best["saving_p50"]), band=band)
        risk = float(best["bill_risk_cny"])
        if round(risk) > 0:
            text += reason("tou_risk", language, risk=yuan(risk))
        return text

    def _name(self, tariff_id: str | None, language: str) -> str:
        if tariff_id is None or tariff_id not in self.catalogue:
            return tariff_id or ""
        tariff = self.catalogue.get(tariff_id)
        return tariff.name_en or tariff.name if language == EN else tariff.name

    def _lake_version(self) -> tuple[tuple[str, int], ...]:
        """The readings' partition folders and their modification times: the ingest
        renames every file into place, which changes its folder's time."""
        root = self.settings.lake_dir / Table.READINGS
        try:
            with os.scandir(root) as entries:
                return tuple(sorted((e.name, e.stat().st_mtime_ns) for e in entries if e.is_dir()))
        except FileNotFoundError:
            return ()

    def read(
        self, customer_id: str, version: tuple[tuple[str, int], ...] | None = None
    ) -> pd.DataFrame:
        """The customer's readings a forecast from the lake's last month can use (read
        every time; `lake_readings` keeps them)."""
        version = self._lake_version() if version is None else version
        months = [name.removeprefix("month=") for name, _ in version if name.startswith("month=")]
        if not months:
            return pd.DataFrame(columns=[CUSTOMER_ID, DATE, *KWH_COLUMNS])
        latest = date.fromisoformat(f"{max(months)}-01")
        end = add_months(latest, 1)
        start = latest - timedelta(days=LOOKBACK_DAYS)
        return readings_between(self.settings, start, end, [customer_id])


def _scenario(bills: pd.Series, scenario: str) -> float | None:
    value = bills.get(scenario)
    return None if value is None or pd.isna(value) else round(float(value), 2)
