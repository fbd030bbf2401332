"""Tips: which energy-saving tips a customer is most likely to act on, best first.

A LightGBM lambdarank over (customer, tip) rows (`training.tip_examples`), trained in
groups of one segment's tips of one month, measured against popularity, the saving rule
and the oracle (`training.tip_evaluation`), registered as `tips` through the promotion
gate on NDCG@3, and used by batch scoring to write each customer's best eligible tips.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

import mlflow.pyfunc
import numpy as np
import pandas as pd
from lightgbm import LGBMRanker

from powerhall.errors import ContractError
from powerhall.settings import Settings
from powerhall.tips import load_tips
from training import tracking
from training.datasets import data_bounds
from training.model import lightgbm_params as risk_params
from training.registry import TrainingRun, register_and_gate
from training.tip_evaluation import evaluate, ndcg_metrics, save_plots
from training.tip_examples import (
    LABEL,
    QUERY,
    SAVING,
    SHOWN_AT,
    TIP,
    TIP_FEATURES,
    build_examples,
    catalogue_view,
    current_tariffs,
    default_cutoff,
    informative,
    split,
    tip_rows,
)

NAME: Final = "tips"
SCORE: Final = "score"
K: Final = 3
TOP_TIPS: Final = 3


def lightgbm_params(seed: int) -> dict[str, Any]:
    """The risk models' shallow, strongly shrunk trees, ranking: a few thousand shown tips,
    most customers seen twice, so smaller leaves and more rounds."""
    return risk_params(seed) | {
        "objective": "lambdarank",
        "n_estimators": 300,
        "min_child_samples": 40,
    }


@dataclass
class TipRanker:
    """LightGBM lambdarank over (customer, tip) rows; the tip id is a categorical feature."""

    features: tuple[str, ...]
    tips: tuple[str, ...]
    ranker: LGBMRanker

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        features: Sequence[str],
        tips: Sequence[str],
        *,
        query: str,
        seed: int,
    ) -> TipRanker:
        model = cls(tuple(features), tuple(tips), LGBMRanker(**lightgbm_params(seed)))
        rows = frame.sort_values([query, SHOWN_AT], kind="stable")
        sizes = rows.groupby(query, sort=False).size().to_numpy()
        model.ranker.fit(model.encode(rows), rows[LABEL].to_numpy(), group=sizes)
        return model

    @property
    def columns(self) -> list[str]:
        """The input columns: the tip id, then the numeric features."""
        return [TIP, *self.features]

    def encode(self, frame: pd.DataFrame) -> pd.DataFrame:
        if missing := [c for c in self.columns if c not in frame.columns]:
            raise ContractError(f"tips ranker input lacks columns {missing}")
        encoded = frame[list(self.features)].astype("float64")
        encoded.insert(0, TIP, pd.Categorical(frame[TIP].astype(str), categories=self.tips))
        return encoded

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.ranker.predict(self.encode(frame)), dtype=float)

    def importance(self) -> dict[str, float]:
        gains = self.ranker.booster_.feature_importance(importance_type="gain")
        return dict(zip(self.columns, map(float, gains), strict=True))


class TipsPyfunc(mlflow.pyfunc.PythonModel):
    """`predict` takes one row per (customer, tip) and returns its `score`: higher first."""

    def __init__(self, model: TipRanker) -> None:
        self.model = model

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        return pd.DataFrame({SCORE: self.model.score(model_input)})


@dataclass(frozen=True)
class TipsResult(TrainingRun):
    model: TipRanker = field(repr=False)
    test: pd.DataFrame = field(repr=False)


def train_tips(
    settings: Settings,
    *,
    cutoff: date | None = None,
    seed: int | None = None,
    model_name: str | None = None,
    tracking_uri: str | None = None,
    plots: bool = True,
) -> TipsResult:
    """One tracked run: shown tips, split, ranker and baselines, plots, model, version, gate.
    `plots` False: metrics without their plots, for a pipeline nobody watches run by run
    (the closed-loop simulation's nightly retraining)."""
    from mlflow.models import infer_signature

    name = model_name or NAME
    seed = settings.seed if seed is None else seed
    catalogue = load_tips()
    cutoff = cutoff or default_cutoff(data_bounds(settings.lake_dir)[1])
    examples = build_examples(settings, catalogue, cutoff)
    parts = split(examples)
    model = TipRanker.fit(parts.train, examples.features, catalogue.ids, query=QUERY, seed=seed)
    metrics, counts = evaluate(model.score, examples, parts, settings)
    rows = {
        "train": len(parts.train),
        "train_accepted": int(parts.train[LABEL].sum()),
        "test": len(parts.test),
        "test_accepted": int(parts.test[LABEL].sum()),
        **counts,
    }
    window = parts.window()
    gated = informative(parts.test)
    tracking.configure(tracking_uri)
    tracking.use_experiment(name)
    with mlflow.start_run(run_name=f"{name}-{parts.cutoff.isoformat()}") as run:
        mlflow.log_params(
            {
                "model": name,
                "seed": seed,
                "query_train": "segment and month shown",
                "query_test": "customer",
                "label": "accepted",
                "k": K,
                "features": len(model.columns),
                "rule": f"largest {SAVING} first",
                **{f"window_{key}": value for key, value in window.items()},
                **{f"lgbm_{key}": value for key, value in lightgbm_params(seed).items()},
            }
        )
        mlflow.log_metrics(
            {f"{scorer}_{key}": value for scorer, m in metrics.items() for key, value in m.items()}
            | {f"rows_{part}": count for part, count in rows.items()}
        )
        if plots:
            with tempfile.TemporaryDirectory() as tmp:
                for path in save_plots(metrics, model.importance(), Path(tmp)):
                    mlflow.log_artifact(str(path), artifact_path="plots")
        mlflow.log_dict({"columns": model.columns, "tips": list(model.tips)}, "features.json")
        mlflow.log_dict(metrics, "metrics.json")
        example = parts.test[model.columns].head(5).reset_index(drop=True)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=TipsPyfunc(model),
            signature=infer_signature(example, pd.DataFrame({SCORE: [0.5]})),
            input_example=example,
            pip_requirements=tracking.pip_requirements(),
        )
        queries = gated["customer_id"].to_numpy()
        model_version, decision = register_and_gate(
            info.model_uri,
            name,
            tags={"cutoff": parts.cutoff.isoformat(), "run_id": run.info.run_id},
            features=gated[model.columns].reset_index(drop=True),
            labels=gated[LABEL].to_numpy(),
            metric=f"ndcg_at_{K}",
            evaluate=lambda labels, scores: ndcg_metrics(labels, scores, queries),
        )
    return TipsResult(
        name=name,
        run_id=run.info.run_id,
        version=model_version,
        window=window,
        rows=rows,
        metrics=metrics,
        decision=decision,
        model=model,
        test=parts.test,
    )


def load_champion(name: str = NAME) -> tuple[str, TipRanker] | None:
    """The registry's champion ranker and its version; None when there is none yet."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from training.registry import CHAMPION

    try:
        found = MlflowClient().get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None
    loaded = mlflow.pyfunc.load_model(f"models:/{name}/{found.version}")
    return str(found.version), loaded.unwrap_python_model().model


def top_tips(
    profiles: pd.DataFrame, model: TipRanker, settings: Settings, limit: int = TOP_TIPS
) -> pd.Series:
    """Per profile row, a JSON list of its best eligible tips (at most `limit`), best first:
    `{"tip_id", "score", "saving_cny_365d"}`; `[]` where no tip is eligible (the
    catalogue's guards keep vacant and near-zero users out)."""
    catalogue = load_tips()
    frame = profiles.reset_index(drop=True)
    eligible, savings = catalogue_view(frame, current_tariffs(settings, frame), catalogue)
    position, tip = np.nonzero(eligible.to_numpy())
    rows = tip_rows(
        frame,
        np.asarray(eligible.columns)[tip],
        eligible,
        savings,
        [f for f in model.features if f not in TIP_FEATURES],
        position,
    )
    rows["position"] = position
    rows[SCORE] = model.score(rows) if len(rows) else np.array([], dtype=float)
    rows = rows.sort_values(["position", SCORE], ascending=[True, False], kind="stable")
    best = rows.groupby("position", sort=False).head(limit)
    lists = {
        int(pos): json.dumps(
            [
                {"tip_id": t, "score": round(float(s), 6), "saving_cny_365d": round(float(y), 2)}
                for t, s, y in zip(group[TIP], group[SCORE], group[SAVING], strict=True)
            ],
            ensure_ascii=False,
        )
        for pos, group in best.groupby("position", sort=False)
    }
    return pd.Series([lists.get(i, "[]") for i in range(len(frame))], index=profiles.index)
