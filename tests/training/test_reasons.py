from __future__ import annotations

import re

import numpy as np

from training.reasons import reasons_for

FEATURES = ("complaints_90d", "bill_yoy_change_90d", "kwh_90d", "outages_30d", "arrears_cny")


def test_the_strongest_phrased_pushes_are_said_in_both_languages() -> None:
    values = np.array([2.0, 0.38, 1200.0, 0.0, 50.0])
    contributions = np.array([0.5, 0.8, 1.0, 0.3, -0.2])
    reasons = reasons_for(FEATURES, values, contributions)
    assert [(r.zh, r.en) for r in reasons] == [
        ("账单较去年同期上涨 38%", "bill up 38% on last year"),
        ("近90天投诉2次", "2 complaints in the last 90 days"),
    ]


def test_nothing_is_said_when_nothing_raised_the_risk() -> None:
    values = np.array([2.0, 0.38, 1200.0, 1.0, 50.0])
    assert reasons_for(FEATURES, values, -np.ones(5)) == []


def test_top_limits_the_reasons_and_missing_values_are_skipped() -> None:
    values = np.array([3.0, np.nan, 1.0, 1.0, 80.5])
    reasons = reasons_for(FEATURES, values, np.array([0.9, 0.8, 0.7, 0.6, 0.5]), top=2)
    assert [r.feature for r in reasons] == ["complaints_90d", "outages_30d"]
    assert all(re.fullmatch(r"[\x20-\x7e]+", r.en) for r in reasons)
