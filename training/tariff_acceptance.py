"""Will a customer accept a tariff offer? The calibrated classifier registered as `tariff_fit`.

It learns from past offers, which were made at random before powerhall (see
`powerhall.synthetic.offers`), so what it learns is how customers answer a saving, not
whom the old process chose. Its features are the offer's forecast saving (yuan and share
of the current bill), the channel, how long a history the forecast stood on, and the
customer's answers to earlier suggestions: the visible traces of the hidden openness and
price sensitivity that decide the answer. Known directions are monotone constraints
(a bigger saving, the counter, a habit of accepting never lower the probability), which
keeps a few hundred offers from teaching noise.

The registered model also carries the forecast's volume band (`Band`), so that batch
scoring bills the same P10-P90 volumes that training measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from training.model import CalibratedModel, CalibrationMethod, ClassifierPyfunc, fit_calibrated
from training.model import lightgbm_params as risk_params
from training.tariff_options import Band

OFFER_FEATURES: Final = ("saving_cny", "saving_share", "channel_counter", "history_days")
"""Computed per offer: the forecast saving at the offer, its channel, the history behind it."""
DERIVED: Final = "suggestions_accept_rate_365d"
DRIVERS: Final = {
    "saving_cny": 1,
    "saving_share": 1,
    "channel_counter": 1,
    "history_days": 0,
    DERIVED: 1,
    "tip_suggestions_shown_365d": 0,
    "tip_suggestions_accepted_365d": 1,
    "tip_suggestions_declined_365d": 0,
    "tariff_suggestions_shown_365d": 0,
    "tariff_suggestions_accepted_365d": 0,
    "tariff_suggestions_declined_365d": 0,
    "app_logins_90d": 0,
    "avg_bill_cny_365d": 0,
}
"""Feature -> monotone direction (+1 only raises the probability, 0 free)."""
PROFILE_FEATURES: Final = tuple(n for n in DRIVERS if n not in OFFER_FEATURES and n != DERIVED)
"""Read from the customer's profile snapshot before the offer."""


def add_derived(frame: pd.DataFrame) -> pd.DataFrame:
    """The share of earlier suggestions accepted: openness in one number (NaN: none shown)."""
    shown = frame["tip_suggestions_shown_365d"] + frame["tariff_suggestions_shown_365d"]
    accepted = frame["tip_suggestions_accepted_365d"] + frame["tariff_suggestions_accepted_365d"]
    rate = np.divide(
        accepted.to_numpy(float),
        shown.to_numpy(float),
        out=np.full(len(frame), np.nan),
        where=shown.to_numpy(float) > 0,
    )
    return frame.assign(**{DERIVED: rate})


def lightgbm_params(seed: int, rows: int) -> dict[str, Any]:
    """The risk models' shallow trees, with leaves of at least ~2 % of the offers and less
    regularisation: hundreds of rows, not millions."""
    return risk_params(seed) | {
        "n_estimators": 300,
        "min_child_samples": max(10, rows // 50),
        "reg_lambda": 2.0,
    }


@dataclass
class AcceptanceModel(CalibratedModel):
    band: Band

    @classmethod
    def fit(
        cls,
        fit: pd.DataFrame,
        fit_labels: np.ndarray,
        calibrate: pd.DataFrame,
        calibrate_labels: np.ndarray,
        *,
        band: Band,
        seed: int,
        method: CalibrationMethod = "sigmoid",
        features: Sequence[str] = tuple(DRIVERS),
    ) -> AcceptanceModel:
        names = list(features)
        params = lightgbm_params(seed, len(fit)) | {
            "monotone_constraints": [DRIVERS.get(name, 0) for name in names],
            "monotone_constraints_method": "advanced",
        }
        classifier, calibrated = fit_calibrated(
            params,
            fit[names].astype("float64"),
            fit_labels,
            calibrate[names].astype("float64"),
            calibrate_labels,
            method,
        )
        return cls(tuple(names), classifier, calibrated, band)

    def inputs(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame[list(self.features)].astype("float64")


AcceptancePyfunc = ClassifierPyfunc
"""The name the tariff_fit versions registered before `ClassifierPyfunc` was shared are
pickled under."""
