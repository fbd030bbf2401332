"""Requests and answers of the counter routes; the suggestions inside are the API's own
(`serving.schemas.SuggestionsAnswer`), so a screen reads what any client reads."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from serving.counter.access import ID_PATTERN
from serving.counter.sessions import ACCOUNT_NO, CUSTOMER_ID
from serving.db.tables import CounterSession
from serving.schemas import SuggestionsAnswer


class SessionCreate(BaseModel):
    """Who was identified at the counter: by customer id or by account number, not both."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"account_no": "3301000123", "staff_id": "S07"},
                {"customer_id": "C000123"},
            ]
        },
    )

    customer_id: str | None = Field(None, min_length=1, max_length=64)
    account_no: str | None = Field(None, min_length=1, max_length=64)
    staff_id: str | None = Field(
        None, pattern=ID_PATTERN, description="The staff member at the counter, if known."
    )

    @model_validator(mode="after")
    def _exactly_one_identity(self) -> Self:
        if (self.customer_id is None) == (self.account_no is None):
            raise ValueError("give exactly one of customer_id and account_no")
        return self

    @property
    def identified_by(self) -> Literal["customer_id", "account_no"]:
        return CUSTOMER_ID if self.customer_id is not None else ACCOUNT_NO

    @property
    def identifier(self) -> str:
        identifier = self.customer_id if self.customer_id is not None else self.account_no
        assert identifier is not None
        return identifier


class SessionPublic(BaseModel):
    id: int = Field(examples=[42])
    hall_id: str = Field(examples=["H01"])
    counter_id: str = Field(examples=["C1"])
    identified_by: Literal["customer_id", "account_no"]
    staff_id: str | None = Field(examples=["S07"])
    started_at: datetime

    @classmethod
    def of(cls, row: CounterSession) -> SessionPublic:
        return cls(
            id=row.id,
            hall_id=row.hall_id,
            counter_id=row.counter_id,
            identified_by=CUSTOMER_ID if row.identified_by == CUSTOMER_ID else ACCOUNT_NO,
            staff_id=row.staff_id,
            started_at=row.started_at,
        )


class CounterAnswer(BaseModel):
    """A session and its counter answer: the body of `POST …/sessions`, and the `session`
    event a counter's screens receive."""

    session: SessionPublic
    language: str = Field(examples=["zh-CN"], description="The language of the texts: zh-CN or en.")
    answer: SuggestionsAnswer
