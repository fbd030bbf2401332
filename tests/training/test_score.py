"""Batch scoring into the scores view, and the feature store loading it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from features.materialize import materialize
from features.store import apply_definitions, open_store
from powerhall.contract import Table
from powerhall.errors import ContractError
from powerhall.lake import read_table
from powerhall.settings import Settings, get_settings
from training.classifier import TrainResult
from training.cli import app
from training.reasons import PHRASES, TOP_REASONS, as_json, explain
from training.score import SCHEMA, latest_profiles, score
from training.tracking import configure

SCORED_AT = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
EXPLAINED_ABOVE = 0.5
"""Explain the upper half (the default is the top decile): more rows to check on small data."""


@pytest.fixture(scope="module")
def scored(settings: Settings, tracking_uri: str, complaint_run: TrainResult):
    return score(
        settings.model_copy(update={"reasons_above_quantile": EXPLAINED_ABOVE}),
        models=["complaint"],
        scored_at=SCORED_AT,
        tracking_uri=tracking_uri,
    )


def test_scores_every_active_customer_with_the_champion(
    scored, settings: Settings, complaint_run: TrainResult
) -> None:
    table = pd.read_parquet(scored.path)
    assert scored.path.parent == settings.offline_dir / "scores"
    assert list(table.columns) == SCHEMA.names
    profiles = latest_profiles(settings)
    assert table["customer_id"].is_unique
    assert set(table["customer_id"]) == set(profiles["customer_id"])
    expected = complaint_run.model.probability(profiles[list(complaint_run.model.features)])
    got = table.set_index("customer_id").loc[profiles["customer_id"], "complaint_risk_30d"]
    np.testing.assert_allclose(got.to_numpy(), expected)
    assert table["churn_risk"].isna().all()
    assert (table["scores_model_versions"] == f"complaint:{scored.models['complaint']}").all()
    assert (table["event_timestamp"] == pd.Timestamp(SCORED_AT)).all()


def test_reasons_parse_into_at_most_three_phrases_in_both_languages(scored) -> None:
    table = pd.read_parquet(scored.path)
    assert table["churn_reasons"].isna().all(), "churn did not score: null, not []"
    parsed = table["complaint_reasons"].map(json.loads)
    assert parsed.map(len).le(TOP_REASONS).all()
    said = [reason for row in parsed for reason in row]
    assert said
    for reason in said:
        assert set(reason) == {"feature", "value", "zh-CN", "en"}
        assert reason["feature"] in PHRASES and isinstance(reason["value"], float)
        assert re.search(r"[\u4e00-\u9fff]", reason["zh-CN"]) and "{" not in reason["zh-CN"]
        assert re.fullmatch(r"[\x20-\x7e]+", reason["en"]) and "{" not in reason["en"]


def test_high_risk_customers_get_the_reasons_the_model_gives(
    scored, settings: Settings, complaint_run: TrainResult
) -> None:
    table = pd.read_parquet(scored.path).set_index("customer_id")
    profiles = latest_profiles(settings).set_index("customer_id").loc[table.index]
    risk = table["complaint_risk_30d"]
    threshold = risk.groupby(profiles["segment"]).transform("quantile", EXPLAINED_ABOVE)
    above = risk > threshold
    assert (table.loc[~above, "complaint_reasons"] == "[]").all()
    riskiest = risk.sort_values(ascending=False, kind="stable").index[:20]
    assert (table.loc[riskiest, "complaint_reasons"] != "[]").sum() >= 10
    explained = profiles[above]
    expected = [as_json(row) for row in explain(complaint_run.model, explained)]
    assert table.loc[explained.index, "complaint_reasons"].tolist() == expected


def test_closed_customers_are_not_scored(settings: Settings, scored) -> None:
    customers = read_table(settings.lake_dir, Table.CUSTOMERS, columns=["customer_id", "closed_at"])
    closed = set(customers.loc[customers["closed_at"].notna(), "customer_id"])
    assert closed
    assert not closed & set(pd.read_parquet(scored.path)["customer_id"])


def test_a_model_without_champion_is_skipped_with_a_reason(
    settings: Settings, tmp_path, tracking_uri: str
) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    try:
        with pytest.raises(ContractError, match="no champion version of churn"):
            score(settings, models=["churn"], tracking_uri=empty)
    finally:
        configure(tracking_uri)


def test_the_feature_store_materializes_the_scores(scored, settings: Settings) -> None:
    store = open_store(settings)
    apply_definitions(store)
    (result,) = materialize(store, settings, views=["scores"], full=True)
    assert result.customers == len(pd.read_parquet(scored.path))
    customer = pd.read_parquet(scored.path).iloc[0]
    online = store.get_online_features(
        features=["scores:complaint_risk_30d", "scores:scores_model_versions"],
        entity_rows=[{"customer_id": customer["customer_id"]}],
    ).to_dict()
    assert online["complaint_risk_30d"] == [pytest.approx(customer["complaint_risk_30d"])]
    assert online["scores_model_versions"] == [customer["scores_model_versions"]]


def test_cli_scores_and_reports_the_versions(
    settings: Settings,
    tracking_uri: str,
    complaint_run: TrainResult,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POWERHALL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["score", "--model", "complaint", "--json"])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert set(run["models"]) == {"complaint"}
    assert pd.read_parquet(run["path"])["complaint_risk_30d"].notna().all()


def test_every_run_writes_each_customers_peer_comparison(scored, settings: Settings) -> None:
    """Whichever models ran: groups of at least the minimum size, the group's own median."""
    table = pd.read_parquet(scored.path).set_index("customer_id")
    compared = table[table["peer_group"].notna()]
    assert len(compared) > len(table) / 2
    assert compared["peer_group_size"].min() >= settings.peer_min_group_size
    profiles = latest_profiles(settings).set_index("customer_id").loc[table.index]
    monthly = profiles["avg_daily_kwh_90d"] * 30
    np.testing.assert_allclose(
        compared["peer_ratio"],
        monthly[compared.index] / compared["peer_median_kwh_30d"],
        atol=1e-3,  # both rounded: the ratio to 3 decimals, the median to 0.1 kWh
    )
    group, members = max(compared.groupby("peer_group"), key=lambda pair: len(pair[1]))
    assert group.endswith("electric_heating"), "residential groups are split by heating"
    assert len(members) == members["peer_group_size"].iloc[0]
    assert members["peer_median_kwh_30d"].iloc[0] == pytest.approx(
        monthly[members.index].median(), abs=0.05
    )
    vacant = profiles["avg_daily_kwh_90d"] < settings.tariff_vacant_kwh_per_day
    assert table.loc[vacant[vacant].index, "peer_group"].isna().all()
