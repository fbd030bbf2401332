"""A derived feature added by a copy of a spec: trained on, and computed by the model itself."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from powerhall.errors import ContractError
from powerhall.settings import Settings
from training import complaint
from training.classifier import fit_risk_model
from training.datasets import build_examples, temporal_split

NEW = "outage_waits_30d"


def test_a_derived_feature_is_learned_and_computed_from_profile_columns(
    settings: Settings,
) -> None:
    spec = replace(
        complaint.SPEC,
        drivers={**complaint.DRIVERS, NEW: 1},
        derived={NEW: "outages_30d * long_waits_30d"},
    )
    examples = spec.select(build_examples(spec.task, settings))
    assert examples.features == (*complaint.DRIVERS, NEW)
    frame = examples.frame
    np.testing.assert_allclose(frame[NEW], frame["outages_30d"] * frame["long_waits_30d"])
    split = temporal_split(examples, spec.task.horizon_days)
    model = fit_risk_model(
        examples, split, seed=1, monotone=spec.monotone(examples.features), derived=spec.derived
    )
    assert model.derived == ((NEW, "outages_30d * long_waits_30d"),)
    profiles_only = split.test.drop(columns=[NEW])
    np.testing.assert_array_equal(model.probability(profiles_only), model.probability(split.test))
    assert model.contributions(profiles_only).shape == (len(split.test), len(examples.features))


def test_a_derived_feature_over_unknown_columns_is_a_contract_error(settings: Settings) -> None:
    spec = replace(
        complaint.SPEC, drivers={**complaint.DRIVERS, NEW: 1}, derived={NEW: "no_such * 2"}
    )
    with pytest.raises(ContractError, match=f"derived feature {NEW}"):
        spec.select(build_examples(spec.task, settings))
