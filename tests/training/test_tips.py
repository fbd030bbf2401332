"""The tips ranker: point-in-time examples, NDCG, baselines, registry, CLI and batch scoring."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import ndcg_score
from typer.testing import CliRunner

from powerhall.errors import PowerhallError
from powerhall.settings import Settings, get_settings
from powerhall.tips import load_tips
from training import tip_examples, tips
from training.cli import app
from training.datasets import data_bounds, load_profiles
from training.ranking import ndcg_at
from training.score import latest_profiles, score
from training.tips import TipsResult, train_tips


@pytest.fixture(scope="module")
def examples(settings: Settings) -> tip_examples.TipExamples:
    cutoff = tip_examples.default_cutoff(data_bounds(settings.lake_dir)[1])
    return tip_examples.build_examples(settings, load_tips(), cutoff)


@pytest.fixture(scope="module")
def tips_run(settings: Settings, tracking_uri: str) -> TipsResult:
    return train_tips(settings, tracking_uri=tracking_uri)


def test_ndcg_on_a_hand_example() -> None:
    relevance = np.array([1, 0, 0, 0, 1, 1, 0])
    score = np.array([0.1, 0.9, 0.5, 0.2, 0.8, 0.5, 0.5])
    query = np.array(["a", "a", "a", "b", "b", "c", "c"])
    # a: the relevant item comes third, 1/log2(4); b: first; c: tied, half 1 + half 1/log2(3)
    expected_3 = (0.5 + 1.0 + (1 + 1 / np.log2(3)) / 2) / 3
    got = ndcg_at(relevance, score, query, ks=(1, 3))
    assert got[3] == pytest.approx(expected_3)
    assert got[1] == pytest.approx((0 + 1 + 0.5) / 3)
    padded = ndcg_score(
        [[1, 0, 0], [0, 1, 0], [1, 0, 0]], [[0.1, 0.9, 0.5], [0.2, 0.8, -1], [0.5, 0.5, -1]], k=3
    )
    assert got[3] == pytest.approx(padded)


def test_ndcg_refuses_a_query_without_a_relevant_item() -> None:
    with pytest.raises(PowerhallError, match="relevant item"):
        ndcg_at(np.array([0, 0, 1]), np.array([0.1, 0.2, 0.3]), np.array([1, 1, 2]))


def test_examples_see_only_snapshots_before_the_show_or_the_cutoff(
    examples: tip_examples.TipExamples, settings: Settings
) -> None:
    frame = examples.frame
    cutoff = pd.Timestamp(examples.cutoff, tz="UTC")
    assert (frame["event_timestamp"] < frame[tip_examples.SHOWN_AT]).all()
    test = frame[frame[tip_examples.SHOWN_AT] >= cutoff]
    assert not test.empty and (test["event_timestamp"] < cutoff).all()
    # the snapshot is the latest one before that moment, and its features are that row's
    profiles = load_profiles(settings.offline_dir)
    as_of = frame[tip_examples.SHOWN_AT].clip(upper=cutoff)
    merged = frame.assign(as_of=as_of)[["customer_id", "event_timestamp", "as_of", "kwh_365d"]]
    merged = merged.merge(
        profiles[["customer_id", "event_timestamp", "kwh_365d"]].rename(
            columns={"event_timestamp": "snapshot", "kwh_365d": "profile_kwh"}
        ),
        on="customer_id",
    )
    later = (merged["snapshot"] > merged["event_timestamp"]) & (
        merged["snapshot"] < merged["as_of"]
    )
    assert not later.any()
    same = merged[merged["snapshot"] == merged["event_timestamp"]]
    np.testing.assert_allclose(same["kwh_365d"], same["profile_kwh"])


def test_examples_price_the_shown_tip_with_the_catalogue(
    examples: tip_examples.TipExamples,
) -> None:
    frame = examples.frame
    assert set(frame[tip_examples.LABEL]) == {0, 1}
    assert (
        frame[tip_examples.LABEL].to_numpy() == (frame["outcome"] == "accepted").to_numpy(dtype=int)
    ).all()
    column = examples.savings.columns.get_indexer(frame[tip_examples.TIP])
    np.testing.assert_allclose(
        frame[tip_examples.SAVING], examples.savings.to_numpy()[frame["position"], column]
    )
    assert (frame.loc[frame[tip_examples.ELIGIBLE] == 0, tip_examples.SAVING] == 0).all()
    assert frame[tip_examples.ORACLE].between(0, 1).all()


def test_ranker_beats_popularity_and_is_measured_against_the_oracle(tips_run: TipsResult) -> None:
    metrics = tips_run.metrics
    assert {"lightgbm", "popularity", "saving_rule", "oracle"} <= set(metrics)
    assert metrics["lightgbm"]["ndcg_at_3"] > metrics["popularity"]["ndcg_at_3"]
    assert metrics["lightgbm"]["truth_ndcg_at_3"] > metrics["popularity"]["truth_ndcg_at_3"]
    assert metrics["lightgbm"]["ndcg_at_3_vs_oracle"] == pytest.approx(
        metrics["lightgbm"]["ndcg_at_3"] / metrics["oracle"]["ndcg_at_3"]
    )
    assert tips_run.rows["test_queries_informative"] > 0
    assert tips_run.window["train_max"] < tips_run.window["test_min"]


def test_the_registered_champion_predicts_as_in_memory(tips_run: TipsResult) -> None:
    import mlflow

    assert tips_run.decision.alias == "champion"
    assert tips_run.decision.metric == "ndcg_at_3"
    loaded = mlflow.pyfunc.load_model(f"models:/{tips.NAME}@champion")
    inputs = tips_run.test[tips_run.model.columns].reset_index(drop=True)
    np.testing.assert_array_equal(
        loaded.predict(inputs)[tips.SCORE].to_numpy(), tips_run.model.score(inputs)
    )


def test_training_is_reproducible_for_a_seed(examples: tip_examples.TipExamples) -> None:
    parts = tip_examples.split(examples)
    fitted = [
        tips.TipRanker.fit(
            parts.train, examples.features, load_tips().ids, query=tip_examples.QUERY, seed=3
        )
        for _ in range(2)
    ]
    np.testing.assert_array_equal(fitted[0].score(parts.test), fitted[1].score(parts.test))


def test_cli_trains_tips_and_prints_json(
    settings: Settings, tracking_uri: str, tips_run: TipsResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERHALL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("POWERHALL_SEED", str(settings.seed))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["train", "tips", "--json"])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert run["name"] == "tips"
    assert run["metrics"]["lightgbm"] == pytest.approx(tips_run.metrics["lightgbm"])
    # the same model on the same window does not beat the champion: it stays challenger
    assert run["decision"]["alias"] == "challenger"
    assert run["decision"]["champion_version"] == tips_run.version


def test_score_writes_the_top_eligible_tips(
    settings: Settings, tracking_uri: str, tips_run: TipsResult
) -> None:
    # scored before test_score's run of the session data, so the newest row stays theirs
    run = score(
        settings,
        models=["tips"],
        scored_at=datetime(2026, 1, 5, 2, 0, tzinfo=UTC),
        tracking_uri=tracking_uri,
    )
    assert run.models == {"tips": tips_run.version}
    table = pd.read_parquet(run.path).set_index("customer_id")
    profiles = latest_profiles(settings).set_index("customer_id")
    eligible = load_tips().eligible(profiles)
    lists = table.loc[profiles.index, "top_tips"].map(json.loads)
    for customer, ranked in lists.items():
        allowed = set(eligible.columns[eligible.loc[customer].to_numpy()])
        assert len(ranked) == min(tips.TOP_TIPS, len(allowed))
        assert {tip["tip_id"] for tip in ranked} <= allowed
        scores = [tip["score"] for tip in ranked]
        assert scores == sorted(scores, reverse=True)
        assert all(tip["saving_cny_365d"] >= 0 for tip in ranked)
    assert table["churn_risk"].isna().all()


def test_a_near_zero_user_gets_no_saving_advice(settings: Settings, tips_run: TipsResult) -> None:
    profiles = latest_profiles(settings).head(3).copy()
    profiles.loc[profiles.index[0], "kwh_365d"] = 12.0  # a likely-vacant premises
    ranked = tips.top_tips(profiles, tips_run.model, settings).map(json.loads)
    assert ranked.iloc[0] == []
    assert all(len(r) > 0 for r in ranked.iloc[1:])
