from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from powerhall.errors import ContractError
from powerhall.settings import Settings
from training import churn, complaint
from training.classifier import TrainResult
from training.datasets import build_examples
from training.model import RiskModel


def test_the_models_learn_only_from_their_drivers(complaint_run: TrainResult) -> None:
    assert complaint_run.model.features == tuple(complaint.DRIVERS)


def test_every_driver_is_a_profile_feature(settings: Settings) -> None:
    for spec in (churn.SPEC, complaint.SPEC):
        examples = spec.select(build_examples(spec.task, settings))
        assert set(examples.features) == set(spec.drivers or ())


def test_a_driver_missing_from_the_profiles_is_named(settings: Settings) -> None:
    spec = replace(complaint.SPEC, drivers={**complaint.DRIVERS, "no_such_feature": 1})
    with pytest.raises(ContractError, match="no_such_feature"):
        spec.select(build_examples(spec.task, settings))


def _noisy_rising_examples(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"driver": rng.uniform(0, 1, n), "noise": rng.normal(size=n)})
    labels = (rng.uniform(size=n) < 0.02 + 0.1 * frame["driver"]).astype(int).to_numpy()
    return frame, labels


def test_a_rising_driver_never_lowers_the_risk() -> None:
    frame, labels = _noisy_rising_examples(4000, seed=1)
    model = RiskModel.fit(
        ("driver", "noise"), frame, labels, frame, labels, seed=0, monotone=[1, 0]
    )
    grid = pd.DataFrame({"driver": np.linspace(0, 1, 101), "noise": 0.0})
    assert np.all(np.diff(model.raw_probability(grid)) >= 0)


def test_monotone_constraints_must_match_the_features() -> None:
    frame, labels = _noisy_rising_examples(500, seed=2)
    with pytest.raises(ValueError, match="1 monotone constraints given for 2 features"):
        RiskModel.fit(("driver", "noise"), frame, labels, frame, labels, seed=0, monotone=[1])
