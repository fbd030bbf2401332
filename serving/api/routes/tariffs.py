"""Tariffs: compare the tariffs open to a customer (or to readings), and simulate a habit
change (`serving.tariffs`).

A customer's comparison or simulation is a view of their profile: a counter key sees only
the customers identified at a counter of its hall recently, and every view is audited.
Readings sent in a body belong to no customer and are not audited.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Final

from fastapi import APIRouter, Depends, FastAPI, Request

from powerhall.tariffs import load_catalogue
from serving.answers import customer_public, read_profile
from serving.api.deps import (
    ApiKeyDep,
    LanguageDep,
    NowDep,
    ProfilesDep,
    SessionDep,
    SettingsDep,
)
from serving.api.routes.customers import visible_customer
from serving.audit import record_view
from serving.db.tables import Customer
from serving.errors import ERROR_RESPONSES, api_error
from serving.tariffs.schemas import CompareAnswer, CompareRequest, SimulateAnswer, SimulateRequest
from serving.tariffs.simulator import (
    READINGS_CUSTOMER,
    TariffSimulator,
    Terms,
    prepare,
    readings_frame,
)
from training.tariff_options import Band
from training.tariff_score import load_champion

logger = logging.getLogger(__name__)

PREFIX: Final = "/v1/tariffs"
COMPARE_PATH: Final = f"{PREFIX}/compare"
"""Takes up to a year of hourly readings: the body limit is larger here (see main)."""


def load_band() -> tuple[Band | None, str | None]:
    """The tariff_fit champion's volume band and version; (None, None) without one, and
    then bills are P50 only and the bill risk is that of the forecast itself."""
    try:
        found = load_champion()
    except Exception as exc:  # a registry that cannot be read must not stop the service
        logger.warning("tariff_fit champion unavailable, bills without a band: %s", exc)
        return None, None
    if found is None:
        return None, None
    version, model = found
    return model.band, version


@asynccontextmanager
async def tariff_simulator(app: FastAPI) -> AsyncIterator[None]:
    """Build the simulator once (catalogue, champion band) after the app's own lifespan
    has pointed MLflow at the registry."""
    band, version = load_band()
    app.state.tariff_simulator = TariffSimulator(
        load_catalogue(), app.state.settings, band=band, band_version=version
    )
    yield


router = APIRouter(
    prefix=PREFIX, tags=["tariffs"], lifespan=tariff_simulator, responses=ERROR_RESPONSES
)


async def _simulator(request: Request) -> TariffSimulator:
    return request.app.state.tariff_simulator


SimulatorDep = Annotated[TariffSimulator, Depends(_simulator)]


def _terms(customer: Customer) -> Terms:
    return Terms(
        customer_id=customer.customer_id,
        segment=customer.segment,
        region=customer.region,
        tariff_id=customer.tariff_id,
        contract_capacity_kva=customer.contract_capacity_kva,
    )


@router.post(
    "/compare",
    response_model=CompareAnswer,
    summary="Yearly bill under each eligible tariff, for a customer or for readings",
)
def compare(
    request: Request,
    body: CompareRequest,
    session: SessionDep,
    caller: ApiKeyDep,
    settings: SettingsDep,
    simulator: SimulatorDep,
    language: LanguageDep,
    now: NowDep,
) -> CompareAnswer:
    """Each eligible tariff's bill for the next 12 months at last year's use, the saving
    against the current tariff and the advice, with the safeguards of the tariff advice:
    no bills from too few readings (the reason says what is missing), no savings for
    likely-vacant premises, "stay" when nothing saves enough, and the bill risk of a move
    to time of use if habits do not change.

    `customer_id`: the customer's last year of readings from the lake and tariffs of their
    segment and region (audited; a counter key needs them identified in its hall).
    `readings`: up to 366 days of hourly kWh with the segment and region to price them in.
    """
    if body.customer_id is None:
        assert body.segment is not None and body.region is not None and body.readings
        terms = Terms(
            READINGS_CUSTOMER,
            str(body.segment),
            str(body.region),
            body.current_tariff_id,
            body.contract_capacity_kva,
        )
        if terms.tariff_id is not None and terms.tariff_id not in simulator.catalogue:
            raise api_error(
                422, "unknown_tariff", f"current_tariff_id: no tariff {terms.tariff_id}"
            )
        tariffs = simulator.tariffs(terms, body.tariff_ids)
        frame = readings_frame(body.readings, READINGS_CUSTOMER, settings.timezone)
        return simulator.compare(
            terms, prepare(frame, READINGS_CUSTOMER), tariffs, language=language
        )
    customer = visible_customer(session, caller, body.customer_id, None, settings, now)
    terms = _terms(customer)
    answer = simulator.compare(
        terms,
        simulator.lake_readings(customer.customer_id),
        simulator.tariffs(terms, body.tariff_ids),
        language=language,
        customer=customer_public(customer),
    )
    record_view(
        session,
        caller=caller,
        customer_id=customer.customer_id,
        action="tariff_compare",
        reason="tariff_compare",
        path=request.url.path,
        now=now,
    )
    session.commit()
    return answer


@router.post(
    "/simulate",
    response_model=SimulateAnswer,
    summary="Bills per tariff if evening use or EV charging moved to valley hours",
)
def simulate(
    request: Request,
    body: SimulateRequest,
    session: SessionDep,
    caller: ApiKeyDep,
    settings: SettingsDep,
    simulator: SimulatorDep,
    profiles: ProfilesDep,
    language: LanguageDep,
    now: NowDep,
) -> SimulateAnswer:
    """The customer's bill under each eligible tariff for the next 12 months as they use
    electricity now, and if the given share of their evening use (18:00-24:00) and of
    their EV charging (the profile's detected charger, at the hours it charges) moved to
    valley hours; with the comparison's advice and the time-of-use bill risk if habits do
    not change. Audited; a counter key needs the customer identified in its hall."""
    customer = visible_customer(session, caller, body.customer_id, None, settings, now)
    terms = _terms(customer)
    profile = read_profile(profiles, customer.customer_id, now)
    has_ev = None if profile is None else profile.features.get("has_ev_charger")
    answer = simulator.simulate(
        terms,
        simulator.lake_readings(customer.customer_id),
        simulator.tariffs(terms),
        body.shift,
        has_ev=None if has_ev is None else bool(has_ev),
        language=language,
        customer=customer_public(customer),
    )
    record_view(
        session,
        caller=caller,
        customer_id=customer.customer_id,
        action="tariff_simulate",
        reason=f"tariff_simulate evening_share={body.shift.evening_share:g} "
        f"ev_share={body.shift.ev_share:g}",
        path=request.url.path,
        now=now,
    )
    session.commit()
    return answer
