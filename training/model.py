"""Calibrated LightGBM classifiers (risk, tariff acceptance), and the MLflow pyfunc that
serves them.

The calibrator maps LightGBM's raw probability to an observed rate; the booster's
`pred_contrib` (exact TreeSHAP) explains the same prediction, so reason codes and scores
come from one object that is logged, registered and loaded back whole. A model also
carries the expressions of its derived features, so that whoever scores it (batch
scoring, the service, the promotion gate) hands it profile columns only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import mlflow.pyfunc
import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator

from powerhall.errors import ContractError

CalibrationMethod = Literal["isotonic", "sigmoid"]


def derive_columns(frame: pd.DataFrame, expressions: Mapping[str, str]) -> pd.DataFrame:
    """`frame` with each derived feature (name -> `DataFrame.eval` expression over its
    columns) added as float64 where it is not already a column."""
    missing = {name: expr for name, expr in expressions.items() if name not in frame.columns}
    if not missing:
        return frame
    added = {}
    for name, expression in missing.items():
        try:
            added[name] = frame.eval(expression, engine="python").astype("float64")
        except (pd.errors.UndefinedVariableError, SyntaxError) as exc:
            raise ContractError(f"derived feature {name} = {expression!r}: {exc}") from exc
    return frame.assign(**added)


def lightgbm_params(seed: int) -> dict[str, Any]:
    """Small trees, big leaves, strong shrinkage: a few dozen customers make the positives,
    each repeated on many correlated weekly rows, so anything finer learns who they are."""
    return {
        "n_estimators": 200,
        "learning_rate": 0.03,
        "num_leaves": 8,
        "min_child_samples": 100,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "reg_lambda": 5.0,
        "random_state": seed,
        "deterministic": True,
        "force_col_wise": True,
        "n_jobs": 2,
        "verbose": -1,
    }


def fit_calibrated(
    params: Mapping[str, Any],
    fit: pd.DataFrame,
    fit_labels: np.ndarray,
    calibrate: pd.DataFrame,
    calibrate_labels: np.ndarray,
    method: CalibrationMethod,
) -> tuple[LGBMClassifier, CalibratedClassifierCV]:
    """A LightGBM classifier fitted on one slice and its calibrator on a later one: the
    booster is frozen, so the calibrator learns only the mapping to observed rates."""
    classifier = LGBMClassifier(**params)
    classifier.fit(fit, fit_labels)
    calibrated = CalibratedClassifierCV(FrozenEstimator(classifier), method=method)
    calibrated.fit(calibrate, calibrate_labels)
    return classifier, calibrated


@dataclass
class CalibratedModel:
    """A fitted LightGBM classifier with its calibrator, over named features.

    Every registered classifier (risk, acceptance, bring-your-own table) predicts, explains
    and ranks its features the same way; what differs is how a frame becomes the model's
    inputs (`inputs`), which a subclass says.
    """

    features: tuple[str, ...]
    classifier: LGBMClassifier
    calibrated: CalibratedClassifierCV

    def inputs(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame[list(self.features)]

    def probability(self, frame: pd.DataFrame) -> np.ndarray:
        return self.calibrated.predict_proba(self.inputs(frame))[:, 1]

    def raw_probability(self, frame: pd.DataFrame) -> np.ndarray:
        return self.classifier.predict_proba(self.inputs(frame))[:, 1]

    def contributions(self, frame: pd.DataFrame) -> np.ndarray:
        """Per-row SHAP values in log-odds (rows x features), bias column dropped."""
        values = self.classifier.booster_.predict(self.inputs(frame), pred_contrib=True)
        return np.asarray(values)[:, :-1]

    def importance(self) -> dict[str, float]:
        gains = self.classifier.booster_.feature_importance(importance_type="gain")
        return dict(zip(self.features, map(float, gains), strict=True))


@dataclass
class RiskModel(CalibratedModel):
    derived: tuple[tuple[str, str], ...] = ()
    """(name, expression) of the features computed from profile columns; a class-level
    default, so that models pickled before it existed load with none."""

    @classmethod
    def fit(
        cls,
        features: tuple[str, ...],
        fit: pd.DataFrame,
        fit_labels: np.ndarray,
        calibrate: pd.DataFrame,
        calibrate_labels: np.ndarray,
        *,
        seed: int,
        method: CalibrationMethod = "isotonic",
        monotone: Sequence[int] | None = None,
        derived: Mapping[str, str] | None = None,
    ) -> RiskModel:
        """`monotone`: per feature, +1 (risk only rises with it), -1 (only falls) or 0 (free);
        known directions keep the trees from fitting noise in the few positives.
        `derived`: name -> expression of the features among `features` that are computed
        from other columns (see `derive_columns`)."""
        params = lightgbm_params(seed)
        if monotone is not None:
            if len(monotone) != len(features):
                raise ValueError(
                    f"{len(monotone)} monotone constraints given for {len(features)} features"
                )
            params |= {
                "monotone_constraints": list(monotone),
                "monotone_constraints_method": "advanced",
            }
        expressions = dict(derived or {})
        classifier, calibrated = fit_calibrated(
            params,
            derive_columns(fit, expressions)[list(features)],
            fit_labels,
            derive_columns(calibrate, expressions)[list(features)],
            calibrate_labels,
            method,
        )
        return cls(features, classifier, calibrated, tuple(expressions.items()))

    def inputs(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's features of `frame`, derived ones computed from their columns."""
        return derive_columns(frame, dict(self.derived))[list(self.features)]


class ClassifierPyfunc(mlflow.pyfunc.PythonModel):
    """`predict` returns one column, `probability`; `model` gives the scorers (reasons,
    tariff advice) the whole fitted model."""

    def __init__(self, model: CalibratedModel) -> None:
        self.model = model

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        return pd.DataFrame({"probability": self.model.probability(model_input)})


RiskPyfunc = ClassifierPyfunc
"""The name the churn and complaint versions registered before `ClassifierPyfunc` was
shared are pickled under."""
