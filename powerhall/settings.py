"""One validated settings object for every deployable; environment prefix `POWERHALL_`.

Nothing is read at import time: call `get_settings()` where a value is needed, so that
tests and the CLI can point the whole system elsewhere with environment variables.
"""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from powerhall.contract import LOCAL_TIMEZONE


class ContactPolicy(BaseModel):
    """How often and when a customer may be contacted, as data: the serving engine applies it
    in one place (`serving.suggestions.policy`); override a field with e.g.
    ``POWERHALL_CONTACT_POLICY__PUSH_PER_WEEK=1``."""

    push_per_week: int = Field(2, ge=0, description="App pushes per customer in any 7 days.")
    push_per_month: int = Field(4, ge=0, description="App pushes per customer in any 30 days.")
    quiet_start: time = Field(
        time(21, 0), description="Local time from which no app push is sent (customer's zone)."
    )
    quiet_end: time = Field(time(8, 0), description="Local time until which pushes stay quiet.")
    repeat_days: int = Field(
        30, ge=0, description="Days before the same suggestion may be shown again."
    )
    repeat_grace_minutes: int = Field(
        30,
        ge=0,
        description="A suggestion shown this recently is still the same contact (the counter "
        "screen refreshed during one visit, the inbox reopened), not a repeat.",
    )
    declined_days: int = Field(
        90, ge=0, description="Days a kind stays suppressed after a decline or dismissal."
    )
    accepted_tariff_days: int = Field(
        365, ge=0, description="Days an accepted tariff suppresses every tariff offer."
    )
    recovery_days: int = Field(
        7,
        ge=0,
        description="Days after an outage or complaint that service recovery comes first "
        "at the counter.",
    )
    high_complaint_risk: float = Field(
        0.3, ge=0, le=1, description="Complaint risk from which service recovery comes first."
    )
    retention_churn_risk: float = Field(
        0.2, ge=0, le=1, description="Churn risk from which a C&I customer gets a retention offer."
    )
    peer_comparison_ratio: float = Field(
        1.2,
        gt=1,
        description="Use relative to the median of similar homes (the scores' peer_ratio) from "
        "which the app compares a customer with them: 1.2 is 20 % more. Below it a "
        "comparison tells the customer nothing worth a message.",
    )
    bill_alert_rise: float = Field(
        0.3,
        gt=0,
        description="A month's forecast bill this far above the customer's usual bill (0.3 = "
        "30 % more) raises a bill alert: the rise from which a bill is a shock.",
    )
    bill_alert_min_cny: float = Field(
        30.0,
        ge=0,
        description="...and at least this many yuan above it, so that small bills do not "
        "alert on a few yuan.",
    )
    bill_alert_tier_days: int = Field(
        14,
        ge=0,
        description="A tier crossing forecast within this many days raises a bill alert.",
    )

    def bill_shock(self, bill_cny: float, usual_cny: float) -> bool:
        """Whether a month's bill is far enough above the usual one to warn the customer
        (the batch evaluation and the engine ask the same question)."""
        return bill_cny >= usual_cny * (1 + self.bill_alert_rise) and (
            bill_cny - usual_cny >= self.bill_alert_min_cny
        )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="POWERHALL_", extra="ignore", env_nested_delimiter="__"
    )

    data_dir: Path = Field(Path("data"), description="Root of generated and ingested data.")
    seed: int = Field(7, description="Default seed of the generator and of training.")
    timezone: str = Field(LOCAL_TIMEZONE, description="Customers' local zone for dates.")

    tariff_min_saving_cny: float = Field(
        30.0,
        ge=0,
        description="Yuan a year (forecast P50) a tariff must save to be advised; below it "
        "the advice is to stay on the current tariff.",
    )
    tariff_vacant_kwh_per_day: float = Field(
        0.5,
        ge=0,
        description="Mean kWh per day over the last 90 days below which premises count as "
        "likely vacant and get no saving advice.",
    )

    peer_min_group_size: int = Field(
        30,
        ge=2,
        description="Comparable customers a peer group needs; a smaller group merges into the "
        "next coarser one (see features.peers), so nobody is compared with a handful of homes.",
    )

    contact_policy: ContactPolicy = Field(
        default_factory=ContactPolicy,
        description="Contact policy of suggestions and pushes (consent, caps, quiet hours).",
    )
    exploration_share: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Share of answers that explore (Thompson sampling over tips and tariffs "
        "from the outcomes observed so far, see serving.suggestions.ranking), so that items "
        "the models rank low or have never seen gather evidence; 0 turns exploration off.",
    )
    exploration_seed: int = Field(
        0,
        description="Seed of which answers explore and what they draw (decided per customer "
        "and local day, so an answer is stable within a day).",
    )

    feature_store: Literal["embedded", "production"] = Field(
        "embedded",
        description="embedded: file registry and SQLite under data_dir; production: SQL "
        "registry and Redis.",
    )
    feast_project: str = Field(
        "powerhall", description="Feast project: namespaces registry entries and online keys."
    )
    feast_registry_url: str = Field(
        "",
        description="SQLAlchemy URL of the SQL registry (production), e.g. "
        "postgresql+psycopg://feast@db:5432/feast.",
    )
    redis_connection: str = Field(
        "127.0.0.1:6379",
        description="Feast Redis connection string (production): host:port[,db=N][,password=..].",
    )
    online_store_timeout_seconds: float = Field(
        0.25,
        gt=0,
        description="Longest the service waits for the Redis online store to connect or answer "
        "one read or event push (retried once): past it the answer is served degraded, from "
        "segment defaults, instead of holding the counter screen. Bulk loads keep redis-py's "
        "own timeouts.",
    )
    materialize_batch_rows: int = Field(
        20_000, gt=0, description="Customers written to the online store per batch."
    )
    reasons_above_quantile: float = Field(
        0.9,
        ge=0,
        lt=1,
        description="Batch scoring gives reason codes (SHAP) to the customers whose risk is "
        "above this quantile of their segment's scores (default: the top decile); the others "
        "get none ([]). SHAP costs about ten times the prediction: above the median, a "
        "million customers would take minutes instead of the goal's 60 seconds.",
    )

    database_url: str = Field(
        "",
        description="SQLAlchemy URL of the service's state (keys, directory, outcomes, audit); "
        "empty: sqlite:///<data_dir>/powerhall.db. PostgreSQL: "
        "postgresql+psycopg://user@host:5432/db.",
    )
    counter_session_minutes: int = Field(
        30, gt=0, description="How long a customer identified at a counter stays visible to it."
    )
    rate_limit_per_minute: int = Field(
        600, gt=0, description="Requests one API key may make in any 60 seconds."
    )
    max_body_bytes: int = Field(
        64 * 1024, gt=0, description="Largest request body the API accepts (else 413)."
    )
    max_readings_body_bytes: int = Field(
        1024 * 1024,
        gt=0,
        description="Largest body of POST /v1/tariffs/compare, which may carry a year of "
        "hourly readings (about 0.4 MB as JSON).",
    )
    push_webhook_url: str = Field(
        "", description="The app push gateway's HTTP endpoint the dispatcher delivers to."
    )
    push_deep_link: str = Field(
        "powerhall://inbox/{suggestion_id}",
        description="The app link a push opens; {suggestion_id} is replaced.",
    )
    push_timeout_seconds: float = Field(
        5.0, gt=0, description="How long one delivery to the push gateway may take."
    )
    push_max_attempts: int = Field(
        8, ge=1, description="Deliveries of one push before it goes to the dead letters."
    )
    push_backoff_base_seconds: float = Field(
        2.0, gt=0, description="Wait before the first retry; doubled after each failure."
    )
    push_backoff_cap_seconds: float = Field(
        900.0, gt=0, description="Longest wait between two deliveries of one push."
    )
    push_lease_seconds: float = Field(
        60.0,
        gt=0,
        description="How long a dispatcher holds the pushes it claimed; a dispatcher killed "
        "mid-batch leaves them to another after this.",
    )
    push_concurrency: int = Field(
        8, ge=1, description="Deliveries one dispatcher has in flight at once."
    )
    counter_fanout: Literal["memory", "redis"] = Field(
        "memory",
        description="memory: counter screens hear sessions posted to the same process; "
        "redis: through Redis pub/sub, across API workers.",
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Redis of the counter fan-out (redis mode)."
    )

    @model_validator(mode="after")
    def _production_needs_registry(self) -> Settings:
        if self.feature_store == "production" and not self.feast_registry_url:
            raise ValueError("feature_store=production needs POWERHALL_FEAST_REGISTRY_URL")
        return self

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        """The service's state sits beside the data it serves unless told otherwise."""
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'powerhall.db').resolve()}"
        return self

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def offline_dir(self) -> Path:
        """The profile builder's output: one Parquet table per feature view."""
        return self.data_dir / "features"

    @property
    def feast_dir(self) -> Path:
        """Registry, SQLite online store and materialization state of the embedded store."""
        return self.data_dir / "feast"


@lru_cache
def get_settings() -> Settings:
    return Settings()
