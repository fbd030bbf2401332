"""Batch scoring: every active customer, every champion model, into the `scores` view's table.

Each customer is scored on their latest weekly profile snapshot, with the features derived
exactly as training derived them. Models are the registry's `champion` versions; a model
without one is skipped, never guessed. A run writes one Parquet file
`<data>/features/scores/scores-<time>.parquet` stamped with the scoring time, so the files
form a history Feast can read point-in-time and `powerhall features materialize --view
scores` loads the newest row of each customer.

Tariff fields come from the tariff_fit champion (`training.tariff_score`): the advice,
the best eligible tariff, its saving band, acceptance probability and bill risk.
Beside each risk, a JSON list of its reason codes (`training.score_reasons`: by default
only the top decile of each segment's risk is explained). Every run also writes each
customer's peer comparison (`features.peers`: their use beside similar homes) and bill
forecast (`training.bill_score`: this month's bill, the usual one, the next tier crossing
and why the month is up), which need no model.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features import peers
from features.profiles import VIEWS
from powerhall.contract import Segment, Table
from powerhall.errors import ContractError
from powerhall.lake import read_table
from powerhall.settings import Settings
from training import bill_score, churn, complaint, tariff_fit, tariff_score, tips, tracking
from training.datasets import KEYS, derive_features
from training.model import RiskModel
from training.registry import CHAMPION
from training.score_reasons import reasons_column

logger = logging.getLogger(__name__)

VIEW: Final = "scores"
BATCH_ROWS: Final = 250_000
COLUMNS: Final = {churn.NAME: "churn_risk", complaint.NAME: "complaint_risk_30d"}
"""Registered model name -> its column in the scores view."""
MODELS: Final = (*COLUMNS, tips.NAME, tariff_fit.NAME)
"""Every model a run scores with: the risk models, the tips ranker (column top_tips) and
tariff_fit (the tariff columns)."""
REASON_COLUMNS: Final = {churn.NAME: "churn_reasons", complaint.NAME: "complaint_reasons"}
"""Registered model name -> the column of its reason codes (JSON list of
{"feature", "value", "zh-CN", "en"}, at most three)."""
SEGMENTS: Final = {
    churn.NAME: churn.SPEC.task.segments,
    complaint.NAME: complaint.SPEC.task.segments,
}
SCHEMA: Final = pa.schema(
    [
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("event_timestamp", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("churn_risk", pa.float64()),
        pa.field("complaint_risk_30d", pa.float64()),
        pa.field("churn_reasons", pa.string()),
        pa.field("complaint_reasons", pa.string()),
        *tariff_score.FIELDS,
        pa.field("top_tips", pa.string()),
        *peers.FIELDS,
        *bill_score.FIELDS,
        pa.field("scores_model_versions", pa.string()),
    ]
)


@dataclass(frozen=True)
class Champion:
    name: str
    version: str
    model: RiskModel
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class ScoreRun:
    path: Path
    customers: int
    scored_at: datetime
    models: dict[str, str]
    """Model name -> champion version used."""
    skipped: dict[str, str]
    """Model name -> why it was not scored."""


def load_champions(names: Sequence[str] = tuple(COLUMNS)) -> tuple[list[Champion], dict[str, str]]:
    """The champion of each model, and a reason for each model that has none."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    champions, skipped = [], {}
    for name in names:
        try:
            version = str(client.get_model_version_by_alias(name, CHAMPION).version)
        except MlflowException:
            skipped[name] = f"no {CHAMPION} version of {name} in the registry: train it first"
            continue
        loaded = mlflow.pyfunc.load_model(f"models:/{name}@{CHAMPION}")
        model = loaded.unwrap_python_model().model
        champions.append(Champion(name, version, model, SEGMENTS[name]))
    return champions, skipped


def latest_profiles(settings: Settings) -> pd.DataFrame:
    """Each active customer's latest snapshot of every profile view, with derived features."""
    tables = []
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        for view in VIEWS:
            source = settings.offline_dir / view.name
            if not any(source.glob("*.parquet")):
                raise ContractError(
                    f"{source} is missing: build the profiles first (powerhall features build)"
                )
            tables.append(
                con.execute(
                    f"""SELECT * FROM read_parquet('{source / "*.parquet"}')
                        QUALIFY row_number() OVER (
                            PARTITION BY customer_id ORDER BY event_timestamp DESC) = 1"""
                ).df()
            )
    profiles = tables[0]
    for table in tables[1:]:
        profiles = profiles.merge(table, on=list(KEYS), how="inner")
    customers = read_table(
        settings.lake_dir,
        Table.CUSTOMERS,
        columns=["customer_id", "segment", "contract_capacity_kva", "created_at", "closed_at"],
    )
    customers = customers[customers["closed_at"].isna()]
    frame = derive_features(profiles, customers, settings.timezone)
    return frame.drop(columns=["created_at", "closed_at"]).reset_index(drop=True)


def score_frame(
    frame: pd.DataFrame, champions: Sequence[Champion], batch_rows: int = BATCH_ROWS
) -> dict[str, np.ndarray]:
    """Each champion's probability for every row in its segments (NaN elsewhere)."""
    scores = {}
    for champion in champions:
        out = np.full(len(frame), np.nan)
        eligible = np.flatnonzero(frame["segment"].isin([str(s) for s in champion.segments]))
        for start in range(0, len(eligible), batch_rows):
            rows = eligible[start : start + batch_rows]
            batch = champion.model.inputs(frame.iloc[rows]).astype("float64")
            out[rows] = champion.model.probability(batch)
        scores[champion.name] = out
    return scores


def reason_frame(
    frame: pd.DataFrame,
    champions: Sequence[Champion],
    scores: dict[str, np.ndarray],
    *,
    quantile: float,
    batch_rows: int = BATCH_ROWS,
) -> dict[str, np.ndarray]:
    """Each champion's reason codes (JSON strings, None where it did not score)."""
    return {
        c.name: reasons_column(
            c.model, frame, scores[c.name], quantile=quantile, batch_rows=batch_rows
        )
        for c in champions
    }


def write_scores(
    out_dir: Path,
    customer_ids: pd.Series,
    scores: dict[str, np.ndarray],
    versions: dict[str, str],
    scored_at: datetime,
    reasons: dict[str, np.ndarray] | None = None,
    top_tips: pd.Series | None = None,
    tariff: pd.DataFrame | None = None,
    peer: pd.DataFrame | None = None,
    bills: pd.DataFrame | None = None,
) -> Path:
    """One Parquet file of the scores view, typed by SCHEMA whatever models ran."""
    reasons = reasons or {}
    n = len(customer_ids)
    empty = pa.nulls(n, pa.float64())
    columns = {
        "customer_id": pa.array(customer_ids.astype(str), pa.string()),
        "event_timestamp": pa.array(np.full(n, pd.Timestamp(scored_at).as_unit("us"))).cast(
            SCHEMA.field("event_timestamp").type
        ),
        **{
            column: pa.array(scores[name], pa.float64(), from_pandas=True)
            if name in scores
            else empty
            for name, column in COLUMNS.items()
        },
        **{
            column: pa.array(reasons[name], pa.string())
            if name in reasons
            else pa.nulls(n, pa.string())
            for name, column in REASON_COLUMNS.items()
        },
        **tariff_score.arrow_columns(tariff, n),
        "top_tips": pa.nulls(n, pa.string())
        if top_tips is None
        else pa.array(top_tips.to_numpy(dtype=object), pa.string()),
        **peers.arrow_columns(peer, n),
        **bill_score.arrow_columns(bills, n),
        "scores_model_versions": pa.array(
            np.full(n, ",".join(f"{k}:{v}" for k, v in sorted(versions.items()))), pa.string()
        ),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"scores-{scored_at:%Y%m%dT%H%M%S}.parquet"
    pq.write_table(pa.table(columns, schema=SCHEMA), path)
    return path


def peer_comparison(frame: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """`features.peers` on the scored profiles (rows in scoring order), with each
    customer's region from the lake."""
    regions = read_table(settings.lake_dir, Table.CUSTOMERS, columns=["customer_id", "region"])
    return peers.peer_comparison(
        frame.merge(regions, on="customer_id", how="left", validate="one_to_one"),
        min_group_size=settings.peer_min_group_size,
        vacant_kwh_per_day=settings.tariff_vacant_kwh_per_day,
    )


def score(
    settings: Settings,
    *,
    models: Sequence[str] = MODELS,
    scored_at: datetime | None = None,
    tracking_uri: str | None = None,
) -> ScoreRun:
    """Score every active customer with every champion and write the scores view's table."""
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        raise ContractError(f"no scores column for models {unknown}: known {sorted(MODELS)}")
    tracking.configure(tracking_uri)
    champions, skipped = load_champions([m for m in models if m in COLUMNS])
    ranker = tips.load_champion() if tips.NAME in models else None
    if tips.NAME in models and ranker is None:
        skipped[tips.NAME] = f"no {CHAMPION} version of {tips.NAME} in the registry: train it first"
    advisor = tariff_score.load_champion() if tariff_fit.NAME in models else None
    if tariff_fit.NAME in models and advisor is None:
        skipped[tariff_fit.NAME] = (
            f"no {CHAMPION} version of {tariff_fit.NAME} in the registry: train it first"
        )
    for name, why in skipped.items():
        logger.warning("skipping %s: %s", name, why)
    if not champions and ranker is None and advisor is None:
        raise ContractError("no champion model to score with: " + "; ".join(skipped.values()))
    frame = latest_profiles(settings)
    scored_at = scored_at or datetime.now(UTC)
    versions = {c.name: c.version for c in champions}
    if ranker is not None:
        versions[tips.NAME] = ranker[0]
    if advisor is not None:
        versions[tariff_fit.NAME] = advisor[0]
    scores = score_frame(frame, champions)
    reasons = reason_frame(frame, champions, scores, quantile=settings.reasons_above_quantile)
    path = write_scores(
        settings.offline_dir / VIEW,
        frame["customer_id"],
        scores,
        versions,
        scored_at,
        reasons,
        top_tips=None if ranker is None else tips.top_tips(frame, ranker[1], settings),
        tariff=None if advisor is None else tariff_score.tariff_advice(frame, advisor[1], settings),
        peer=peer_comparison(frame, settings),
        bills=bill_score.bill_forecasts(frame, settings),
    )
    logger.info("scored %d customers with %s into %s", len(frame), versions, path)
    return ScoreRun(path, len(frame), scored_at, versions, skipped)
