"""Champion risk models from the MLflow registry, and online scoring of one profile.

`Champions.reload()` loads `models:/<name>@champion` for churn and complaint; a model that
fails to load (registry down, artifact missing or unreadable) keeps the version served
before, and the failure is reported, so an alias move is a deployment and a broken one
is not an outage.

Online scoring runs when a real-time event reached the profile after the batch scores
were written. The row is derived as training derives it (`training.datasets.
derive_features`) with the request time in place of the snapshot time: days since each
`last_*_at`, tenure, segment flags, booleans as 0/1. The prediction goes through the
booster's raw score and the calibrators on one NumPy row, without building a DataFrame
(only a model with derived features, expressions over profile columns, evaluates them on
a one-row frame); a test holds it equal to `RiskModel.probability`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.isotonic import IsotonicRegression

from powerhall.contract import Segment
from serving.suggestions.model import CustomerRecord
from serving.suggestions.risks import RiskScore
from training.model import RiskModel
from training.reasons import reasons_for
from training.registry import CHAMPION
from training.score import SEGMENTS

logger = logging.getLogger(__name__)

ONE_ROW: Final = {"num_threads": 1}
"""LightGBM prediction parameters for one row: its OpenMP threads (the training setting)
cost more to wake and join than the row costs to score, badly so on a busy machine."""


@dataclass(frozen=True)
class Champion:
    name: str
    version: str
    model: RiskModel
    segments: frozenset[str]

    def row(self, derived: dict[str, float]) -> np.ndarray:
        """The model's inputs in its order; a model with derived features (expressions over
        profile columns) computes them through its own `inputs`, on a one-row frame."""
        if self.model.derived:
            computed = {name for name, _ in self.model.derived}
            given = {f: math.nan for f in self.model.features if f not in computed} | derived
            return self.model.inputs(pd.DataFrame([given])).to_numpy(dtype=float)[0]
        return np.array([derived.get(f, math.nan) for f in self.model.features])

    def predict(self, row: np.ndarray) -> float:
        """The calibrated probability of one row, as `RiskModel.probability` computes it."""
        raw = self.model.classifier.booster_.predict(row.reshape(1, -1), raw_score=True, **ONE_ROW)
        calibrators = [c.calibrators[0] for c in self.model.calibrated.calibrated_classifiers_]
        p = float(np.mean([_calibrate(c, raw) for c in calibrators]))
        return min(max(p, 0.0), 1.0)

    def score(self, row: np.ndarray) -> RiskScore:
        contributions = self.model.classifier.booster_.predict(
            row.reshape(1, -1), pred_contrib=True, **ONE_ROW
        )
        reasons = reasons_for(self.model.features, row, np.asarray(contributions)[0, :-1])
        return RiskScore(
            self.name,
            self.predict(row),
            tuple((r.feature, {"zh-CN": r.zh, "en": r.en}) for r in reasons),
        )


def _calibrate(calibrator: Any, raw: np.ndarray) -> float:
    """A fitted calibrator's mapping of one raw score, without sklearn's input checks
    (which cost more than the mapping): isotonic is a clipped linear interpolation,
    sigmoid (Platt) a logistic; any other calibrator answers through its `predict`."""
    if isinstance(calibrator, IsotonicRegression) and calibrator.increasing_:
        return float(np.interp(raw[0], calibrator.X_thresholds_, calibrator.y_thresholds_))
    if hasattr(calibrator, "a_") and hasattr(calibrator, "b_"):
        return float(expit(-(calibrator.a_ * raw[0] + calibrator.b_)))
    return float(calibrator.predict(raw)[0])


Loader = Callable[[str], Champion]


def load_champion(name: str) -> Champion:
    """`models:/<name>@champion` from the configured registry (see `training.tracking`)."""
    import mlflow
    from mlflow import MlflowClient

    version = str(MlflowClient().get_model_version_by_alias(name, CHAMPION).version)
    loaded = mlflow.pyfunc.load_model(f"models:/{name}@{CHAMPION}")
    model = loaded.unwrap_python_model().model
    if not isinstance(model, RiskModel):
        raise TypeError(f"{name} version {version} is a {type(model).__name__}, not a RiskModel")
    return Champion(name, version, model, frozenset(str(s) for s in SEGMENTS[name]))


@dataclass(frozen=True)
class ReloadReport:
    loaded: dict[str, str]
    """Model -> version now served (new or kept)."""
    failed: dict[str, str]
    """Model -> why this reload could not load it."""


class Champions:
    """The champions in use; replaced whole per model, so a reader never sees half a load."""

    def __init__(
        self, names: Sequence[str] = tuple(SEGMENTS), loader: Loader = load_champion
    ) -> None:
        self.names = tuple(names)
        self._loader = loader
        self._models: dict[str, Champion] = {}

    def reload(self) -> ReloadReport:
        failed = {}
        for name in self.names:
            try:
                self._models[name] = self._loader(name)
            except Exception as exc:  # any failure must leave the last good model serving
                kept = self._models.get(name)
                failed[name] = f"{type(exc).__name__}: {exc}" + (
                    f"; keeping version {kept.version}" if kept else "; no model to keep"
                )
                logger.warning("champion %s not loaded: %s", name, failed[name])
        return ReloadReport(self.versions, failed)

    @property
    def versions(self) -> dict[str, str]:
        return {name: c.version for name, c in self._models.items()}

    def get(self, name: str) -> Champion | None:
        return self._models.get(name)

    def score(
        self, customer: CustomerRecord, features: dict[str, Any], now: datetime
    ) -> dict[str, RiskScore]:
        """Each champion's risk for the customer's profile at `now` (its segments only)."""
        if not self._models:
            return {}
        derived = derive_online(customer, features, now)
        return {
            name: champion.score(champion.row(derived))
            for name, champion in self._models.items()
            if customer.segment in champion.segments
        }


def derive_online(
    customer: CustomerRecord, features: dict[str, Any], now: datetime
) -> dict[str, float]:
    """The model inputs of one profile at `now`, derived like `derive_features` does."""
    derived: dict[str, float] = {}
    for name, value in features.items():
        if name.startswith("last_") and name.endswith("_at"):
            if isinstance(value, datetime):
                key = f"days_since_{name.removeprefix('last_').removesuffix('_at')}"
                derived[key] = (now - value).total_seconds() / 86_400
        elif value is None or isinstance(value, bool | int | float):
            derived[name] = math.nan if value is None else float(value)
    derived["tenure_days"] = float((now - customer.created_at).days)
    derived["contract_capacity_kva"] = (
        math.nan
        if customer.contract_capacity_kva is None
        else float(customer.contract_capacity_kva)
    )
    for segment in (Segment.COMMERCIAL, Segment.INDUSTRIAL):
        derived[f"is_{segment}"] = float(customer.segment == segment)
    return derived
