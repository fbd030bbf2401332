"""Champions from the MLflow registry (reload keeps the last good model) and online scoring
when a real-time event arrived after the batch scores."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from features.online import Profile
from powerhall.settings import Settings
from serving.suggestions.candidates import Catalogue
from serving.suggestions.champions import Champion, Champions, derive_online
from serving.suggestions.engine import build_suggester
from serving.suggestions.model import Channel, ContactHistory, CustomerRecord
from tests.serving.suggestions.conftest import make_suggester, register_champion
from training.datasets import derive_features, load_profiles
from training.model import RiskModel
from training.registry import CHAMPION


def record(row: pd.Series) -> CustomerRecord:
    return CustomerRecord(
        customer_id=row["customer_id"],
        account_no=row["account_no"],
        segment=row["segment"],
        region=row["region"],
        hall_id=row["hall_id"],
        tariff_id=row["tariff_id"],
        contract_capacity_kva=None,
        has_app=bool(row["has_app"]),
        push_consent=bool(row["push_consent"]),
        phone=row["phone"],
        created_at=row["created_at"].to_pydatetime(),
        closed_at=None,
    )


def online_profile(row: pd.Series, *, live_after_scores: bool) -> Profile:
    """A profile of the online store's shape from an offline row, with batch scores."""
    features = {
        k: (None if not isinstance(v, str | bool) and pd.isna(v) else v)
        for k, v in row.items()
        if k not in ("customer_id", "event_timestamp")
    }
    features = {
        k: v.to_pydatetime() if isinstance(v, pd.Timestamp) else v for k, v in features.items()
    }
    features |= {"complaint_risk_30d": 0.0123, "scores_model_versions": "complaint:0"}
    scored = row["event_timestamp"].to_pydatetime()
    live = scored + timedelta(hours=1) if live_after_scores else scored - timedelta(days=1)
    return Profile(
        row["customer_id"],
        features,
        {"consumption": scored, "scores": scored, "service_live": live},
    )


def champion_version() -> str:
    """The complaint champion's version in the registry now (tests may move the alias)."""
    return str(MlflowClient().get_model_version_by_alias("complaint", CHAMPION).version)


def customer_of(customers: pd.DataFrame, customer_id: str) -> CustomerRecord:
    return record(customers.set_index("customer_id", drop=False).loc[customer_id])


def test_online_features_are_derived_as_in_training(latest_rows: pd.DataFrame, customers) -> None:
    columns = ["customer_id", "segment", "contract_capacity_kva", "created_at", "closed_at"]
    frame = derive_features(latest_rows.copy(), customers[columns], "Asia/Shanghai")
    checked = ("days_since_outage", "days_since_complaint", "tenure_days", "is_commercial")
    checked += ("outages_90d", "has_ev_charger", "bill_growth_30d", "kwh_365d")
    for (_, row), (_, expected) in zip(latest_rows.iterrows(), frame.iterrows(), strict=True):
        assert row["customer_id"] == expected["customer_id"]
        profile = online_profile(row, live_after_scores=False)
        at = row["event_timestamp"].to_pydatetime()
        derived = derive_online(customer_of(customers, row["customer_id"]), profile.features, at)
        for name in checked:
            want, got = float(expected[name]), derived.get(name, np.nan)
            assert (np.isnan(want) and np.isnan(got)) or got == pytest.approx(want), name


def test_a_champion_predicts_as_the_model_does(
    registry: str, tiny_model: RiskModel, latest_rows: pd.DataFrame, customers
) -> None:
    champions = Champions(names=("complaint",))
    report = champions.reload()
    assert report.loaded == {"complaint": champion_version()} and report.failed == {}
    champion = champions.get("complaint")
    assert champion is not None
    columns = ["customer_id", "segment", "contract_capacity_kva", "created_at", "closed_at"]
    frame = derive_features(latest_rows.copy(), customers[columns], "Asia/Shanghai")
    rows = frame[list(tiny_model.features)].astype("float64")
    expected = tiny_model.probability(rows)
    got = [champion.predict(rows.iloc[i].to_numpy()) for i in range(len(rows))]
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_reload_keeps_the_last_good_model(registry: str, tiny_model: RiskModel) -> None:
    champions = Champions(names=("complaint",))
    good = champions.reload().loaded["complaint"]
    register_champion({"not": "a model"})  # a broken version takes the alias
    report = champions.reload()
    assert report.loaded == {"complaint": good}
    assert "complaint" in report.failed and f"keeping version {good}" in report.failed["complaint"]
    assert champions.get("complaint").model is not None
    newer = register_champion(tiny_model)  # fixed: the next reload picks it up
    assert champions.reload().loaded == {"complaint": newer}


def test_a_missing_model_is_reported_not_raised(registry: str) -> None:
    report = Champions(names=("no-such-model",)).reload()
    assert report.loaded == {}
    assert "no model to keep" in report.failed["no-such-model"]


def test_online_rescoring_when_the_live_view_is_newer(
    registry: str, tiny_model: RiskModel, catalogue: Catalogue, latest_rows: pd.DataFrame, customers
) -> None:
    champions = Champions(names=("complaint",))
    champions.reload()
    suggester = make_suggester(catalogue, champions=champions)
    row = latest_rows.iloc[0]
    customer = customer_of(customers, row["customer_id"])
    now = row["event_timestamp"].to_pydatetime() + timedelta(hours=2)

    fresh = suggester.suggest(
        customer,
        online_profile(row, live_after_scores=False),
        ContactHistory(),
        channel=Channel.COUNTER,
        now=now,
    )
    assert fresh.model_versions == {"complaint": "0", "scoring": "batch"}
    assert fresh.risks[0].probability == 0.0123

    stale = suggester.suggest(
        customer,
        online_profile(row, live_after_scores=True),
        ContactHistory(),
        channel=Channel.COUNTER,
        now=now,
    )
    assert stale.model_versions == {"complaint": champion_version(), "scoring": "online"}
    derived = derive_online(customer, online_profile(row, live_after_scores=True).features, now)
    features = pd.DataFrame([{f: derived.get(f, np.nan) for f in tiny_model.features}])
    assert stale.risks[0].probability == pytest.approx(
        tiny_model.probability(features)[0], abs=1e-4
    )


def test_build_suggester_loads_everything(
    registry: str, tiny_model: RiskModel, built: Settings
) -> None:
    suggester = build_suggester(built, tracking_uri=registry)
    assert suggester.model_versions["complaint"] == champion_version()
    assert "churn" in suggester.reload_failures  # never trained here: reported, not raised
    assert set(suggester.defaults) == {"residential"}


def test_derived_features_are_computed_for_online_scoring(
    built: Settings, latest_rows: pd.DataFrame, customers, tiny_model: RiskModel
) -> None:
    """A model carrying derived features (expressions over profile columns) scores a live
    profile as batch scoring scores the same row."""
    columns = ["customer_id", "segment", "contract_capacity_kva", "created_at", "closed_at"]
    history = derive_features(load_profiles(built.offline_dir), customers[columns], "Asia/Shanghai")
    labels = (history["complaints_365d"].fillna(0) > 0).to_numpy(dtype=int)
    half = len(history) // 2
    model = RiskModel.fit(
        (*tiny_model.features, "outage_pressure"),
        history.iloc[:half],
        labels[:half],
        history.iloc[half:],
        labels[half:],
        seed=1,
        method="isotonic",  # the tiny champion is sigmoid: both calibrations are checked
        derived={"outage_pressure": "outages_30d * 2 + outages_90d"},
    )
    champion = Champion("complaint", "9", model, frozenset({"residential"}))
    latest = derive_features(latest_rows.copy(), customers[columns], "Asia/Shanghai")
    expected = model.probability(latest)
    for i, (_, row) in enumerate(latest_rows.iterrows()):
        profile = online_profile(row, live_after_scores=True)
        at = row["event_timestamp"].to_pydatetime()
        values = derive_online(customer_of(customers, row["customer_id"]), profile.features, at)
        assert champion.predict(champion.row(values)) == pytest.approx(expected[i], abs=1e-9)
