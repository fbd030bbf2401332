"""Who a tip is for: segment, guards and conditions, with missing features failing safe."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from powerhall.errors import ContractError
from powerhall.tips import SEGMENT, TipCatalogue


def test_the_frame_is_customers_by_tips(tips: TipCatalogue, profiles: pd.DataFrame) -> None:
    eligible = tips.eligible(profiles)
    assert list(eligible.columns) == tips.ids
    assert eligible.index.equals(profiles.index)
    assert all(dtype == np.bool_ for dtype in eligible.dtypes)


def test_ev_tip_only_for_homes_with_an_ev(tips: TipCatalogue, profiles: pd.DataFrame) -> None:
    ev = tips.eligible(profiles)["tip-ev-valley-charging"]
    assert ev[ev].index.tolist() == ["ev-home", "flat-ev-home"]


def test_a_vacant_premises_gets_no_advice(tips: TipCatalogue, profiles: pd.DataFrame) -> None:
    eligible = tips.eligible(profiles)
    assert not eligible.loc["vacant-home"].any()
    assert eligible.loc["plain-home"].any()


def test_too_few_readings_gets_no_advice(tips: TipCatalogue, profiles: pd.DataFrame) -> None:
    profiles.loc["plain-home", "reading_days_365d"] = 30
    assert not tips.eligible(profiles).loc["plain-home"].any()


def test_tips_stay_in_their_segment(tips: TipCatalogue, profiles: pd.DataFrame) -> None:
    eligible = tips.eligible(profiles)
    for tip in tips:
        segments = profiles.loc[eligible[tip.id], SEGMENT]
        assert set(segments) <= {str(s) for s in tip.segments}, tip.id
    assert eligible.loc["factory-capacity", "tip-demand-basis-switch"]
    assert not eligible.loc["shop", "tip-demand-basis-switch"]
    assert not eligible.loc["plain-home", "tip-peak-valley-shift"]


def test_a_missing_feature_does_not_qualify(tips: TipCatalogue, profiles: pd.DataFrame) -> None:
    eligible = tips.eligible(profiles).loc["unknown-appliances"]
    assert not eligible["tip-ev-valley-charging"]
    assert not eligible["tip-ac-26c"]
    assert eligible["tip-fridge-settings"]


def test_conditions_read_thresholds(tips: TipCatalogue, profiles: pd.DataFrame) -> None:
    assert tips.eligible(profiles).loc["factory-capacity", "tip-transformer-no-load"]
    assert not tips.eligible(profiles).loc["factory-demand", "tip-transformer-no-load"]


def test_a_missing_column_is_named(tips: TipCatalogue, profiles: pd.DataFrame) -> None:
    with pytest.raises(ContractError, match=r"profiles: missing column.*has_ev_charger"):
        tips.eligible(profiles.drop(columns=["has_ev_charger"]))
    with pytest.raises(ContractError, match="segment"):
        tips.eligible(profiles.drop(columns=[SEGMENT]))
