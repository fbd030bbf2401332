"""Requests and answers of `POST /v1/tariffs/compare` and `/v1/tariffs/simulate`.

Readings sent in a body are checked here, so that a handler only meets a year or less of
whole hours with a zone and no negative kWh; every problem is a 422 naming the reading.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final, Self

import pandas as pd
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from powerhall.contract import Region, Segment
from serving.schemas import CustomerPublic
from serving.tariffs.whatif import Shift
from training.tariff_options import Advice

MAX_READING_DAYS: Final = 366
MAX_READINGS: Final = MAX_READING_DAYS * 24


class ReadingIn(BaseModel):
    """One hour of metered use: ``ts`` is the start of the hour, with its zone."""

    model_config = ConfigDict(extra="forbid")

    ts: AwareDatetime = Field(examples=["2025-07-01T19:00:00+08:00"])
    kwh: float = Field(ge=0, allow_inf_nan=False, examples=[1.25])


class CompareRequest(BaseModel):
    """A customer of the directory (their last year of readings from the lake), or a
    segment, a region and up to a year of hourly readings."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"customer_id": "C000123"},
                {
                    "segment": "residential",
                    "region": "shanghai",
                    "current_tariff_id": "shanghai-res-tiered",
                    "tariff_ids": ["shanghai-res-tou"],
                    "readings": [
                        {"ts": "2025-07-01T00:00:00+08:00", "kwh": 0.42},
                        {"ts": "2025-07-01T01:00:00+08:00", "kwh": 0.38},
                    ],
                },
            ]
        },
    )

    customer_id: str | None = Field(None, min_length=1, max_length=64)
    segment: Segment | None = None
    region: Region | None = None
    readings: list[ReadingIn] | None = Field(
        None,
        min_length=1,
        max_length=MAX_READINGS,
        description=f"Hourly readings spanning at most {MAX_READING_DAYS} days; hours not "
        "sent count as missing.",
    )
    current_tariff_id: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="With readings: the tariff savings are measured against (without it, "
        "bills only).",
    )
    contract_capacity_kva: float | None = Field(
        None,
        ge=0,
        allow_inf_nan=False,
        description="With readings: needed by capacity-based two-part tariffs.",
    )
    tariff_ids: list[str] | None = Field(
        None,
        min_length=1,
        max_length=32,
        description="Compare only these tariffs (each must be open to the segment and region); "
        "default: every eligible tariff.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.customer_id is None) == (self.readings is None):
            raise ValueError("give exactly one of customer_id and readings")
        if self.customer_id is not None:
            given = [
                name
                for name in ("segment", "region", "current_tariff_id", "contract_capacity_kva")
                if getattr(self, name) is not None
            ]
            if given:
                raise ValueError(
                    f"{', '.join(given)}: come from the directory for a customer_id; "
                    "send them only with readings"
                )
        elif self.segment is None or self.region is None:
            raise ValueError("readings need the segment and the region they are billed in")
        return self

    @model_validator(mode="after")
    def _hourly_year(self) -> Self:
        if self.readings is None:
            return self
        stamps = pd.to_datetime([r.ts for r in self.readings], utc=True)
        off_hour = (stamps.minute != 0) | (stamps.second != 0) | (stamps.microsecond != 0)
        if off_hour.any():
            first = int(off_hour.argmax())
            raise ValueError(
                f"readings.{first}.ts: {self.readings[first].ts.isoformat()} is not the start "
                "of an hour; readings are hourly (HH:00:00)"
            )
        repeated = stamps.duplicated()
        if repeated.any():
            first = int(repeated.argmax())
            raise ValueError(
                f"readings.{first}.ts: {self.readings[first].ts.isoformat()} is given twice"
            )
        if stamps.max() - stamps.min() >= timedelta(days=MAX_READING_DAYS):
            raise ValueError(
                f"readings span {stamps.min():%Y-%m-%d} to {stamps.max():%Y-%m-%d}: at most "
                f"{MAX_READING_DAYS} days"
            )
        return self


class SimulateRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"customer_id": "C000123", "shift": {"evening_share": 0.3, "ev_share": 1}}]
        },
    )

    customer_id: str = Field(min_length=1, max_length=64)
    shift: Shift = Field(
        Shift(evening_share=0.0, ev_share=0.0), description="Nothing moved when left out."
    )


class ReadingsUsed(BaseModel):
    """The readings the forecast was made from (the year before the first forecast month)."""

    first_day: date | None = Field(examples=["2025-03-01"])
    last_day: date | None = Field(examples=["2026-02-28"])
    days: int = Field(examples=[365], description="Days from the first reading to the cut-off.")
    coverage: float = Field(examples=[0.98], description="Share of those days' hours read.")


class TariffBill(BaseModel):
    """One tariff's bill for the forecast year (next 12 months at last year's use).

    P10/P90 are the bills at the volume band of the tariff_fit champion (absent without
    one). Savings are the current tariff's bill minus this one's (positive saves money);
    they are absent when no advice may be given (see `advice`)."""

    tariff_id: str = Field(examples=["shanghai-res-tou"])
    name: str = Field(examples=["上海市居民生活用电峰谷分时阶梯电价（一户一表）"])
    time_of_use: bool
    current: bool = Field(description="The customer's tariff now.")
    bill_cny: float = Field(examples=[1505.48], description="Yuan, P50 forecast.")
    bill_p10_cny: float | None = Field(examples=[1354.92])
    bill_p90_cny: float | None = Field(examples=[1656.03])
    saving_cny: float | None = Field(examples=[142.11])
    saving_p10_cny: float | None = Field(examples=[127.91])
    saving_p90_cny: float | None = Field(examples=[156.32])
    bill_risk_cny: float | None = Field(
        examples=[0.0],
        description="A move to time of use, habits unchanged: yuan more than staying in the "
        "bad case of the band (0 when even that saves; absent for the current tariff).",
    )


class SimulatedBill(TariffBill):
    bill_shifted_cny: float = Field(
        examples=[1432.1], description="Yuan, P50 forecast, with the shift made."
    )
    saving_shifted_cny: float | None = Field(
        examples=[73.38],
        description="The current tariff's bill now minus this one's with the shift made "
        "(for the current tariff: what the habit change alone saves).",
    )


class TariffAnswer(BaseModel):
    customer: CustomerPublic | None = Field(description="Absent for a comparison of readings.")
    segment: str = Field(examples=["residential"])
    region: str = Field(examples=["shanghai"])
    current_tariff_id: str | None = Field(examples=["shanghai-res-tiered"])
    language: str = Field(examples=["zh-CN"], description="The language of names and reason.")
    readings: ReadingsUsed
    first_month: str | None = Field(
        examples=["2026-03"], description="First forecast month billed (none without readings)."
    )
    last_month: str | None = Field(examples=["2027-02"])
    advice: Advice | None = Field(
        examples=["switch"],
        description="The tariff advice's safeguards: insufficient_data (no bills), vacant (no "
        "savings), stay, switch; absent for readings without a current tariff.",
    )
    best_tariff_id: str | None = Field(examples=["shanghai-res-tou"])
    reason: str = Field(examples=["改用上海市居民生活用电峰谷分时阶梯电价预计每年节省约 ¥142。"])
    band_version: str | None = Field(
        examples=["3"], description="tariff_fit champion whose volume band gives P10/P90."
    )


class CompareAnswer(TariffAnswer):
    tariffs: list[TariffBill] = Field(description="Cheapest forecast bill first.")


class SimulateAnswer(TariffAnswer):
    shift: Shift
    moved_kwh: float = Field(examples=[412.5], description="kWh a year moved to valley hours.")
    valley_hours: list[int] = Field(
        examples=[[22, 23, 0, 1, 2, 3, 4, 5]],
        description="Hours of day in the valley of every eligible time-of-use tariff, all year.",
    )
    ev_charger: bool = Field(description="An EV charger is detected (profile, else readings).")
    ev_charging_hours: list[int] = Field(
        examples=[[19, 20]], description="Hours outside the valley in which the EV charges."
    )
    tariffs: list[SimulatedBill] = Field(description="Cheapest forecast bill now first.")
