"""The closed loop on the session's small world: every policy through the real campaign,
feedback and contact policy; the retrained one through the nightly pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from sqlalchemy import select

from powerhall.contract import Table
from powerhall.errors import PowerhallError
from powerhall.lake import read_table
from powerhall.settings import ContactPolicy
from serving.db.engine import make_engine, session_factory
from serving.db.tables import Customer, SuggestionOutcome
from serving.push.tables import OutboxMessage
from simulation.loop import SimulationRun, run
from simulation.policies import ORACLE, POLICIES, POWERHALL, RANDOM, RETRAINED
from simulation.report import EXPERIMENT, Report
from simulation.workspace import Workspace
from tests.simulation.conftest import ROUNDS
from training import tips, tracking

pytestmark = pytest.mark.slow


def rows(url: str, *columns):
    engine = make_engine(url)
    with session_factory(engine)() as session:
        found = pd.DataFrame(session.execute(select(*columns)).all())
    engine.dispose()
    return found


def test_every_policy_meets_the_same_customers(simulated: SimulationRun) -> None:
    directories = [
        set(rows(url, Customer.customer_id)["customer_id"]) for url in simulated.databases.values()
    ]
    assert all(d == directories[0] for d in directories)
    pushed = simulated.pushes
    assert set(pushed["policy"]) == set(POLICIES)
    assert set(pushed["round"]) == set(range(1, ROUNDS + 1))
    assert set(pushed["kind"]) <= {"tariff", "tip"}


def test_the_push_log_holds_every_push_and_respects_the_caps(
    simulated: SimulationRun, reported: Report
) -> None:
    for name, url in simulated.databases.items():
        outbox = rows(url, OutboxMessage.customer_id, OutboxMessage.created_at)
        assert len(outbox) == (simulated.pushes["policy"] == name).sum()
    assert reported.caps_held, reported.caps
    policy = ContactPolicy()
    assert (reported.caps["most_in_7_days"] <= policy.push_per_week).all()
    assert (reported.caps["most_in_30_days"] <= policy.push_per_month).all()


def test_answers_come_from_the_truth_and_are_posted_as_feedback(simulated: SimulationRun) -> None:
    pushed = simulated.pushes
    for name, url in simulated.databases.items():
        posted = rows(url, SuggestionOutcome.outcome)
        answered = pushed[(pushed["policy"] == name) & (pushed["outcome"] != "ignored")]
        assert sorted(posted["outcome"]) == sorted(answered["outcome"])
    assert pushed.loc[pushed["accepted"], "p_accept"].gt(0).all()
    # The same suggestion in the same campaign meets the same customer's mood everywhere.
    same = pushed.groupby(["campaign", "customer_id", "kind", "item_id"])["outcome"].nunique()
    assert (same == 1).all()
    assert (pushed.loc[~pushed["accepted"], "benefit_cny_year"] == 0).all()


def test_a_customer_who_opts_out_gets_no_more_pushes(simulated: SimulationRun) -> None:
    pushed = simulated.pushes
    for name, url in simulated.databases.items():
        mine = pushed[pushed["policy"] == name]
        left = mine[mine["opted_out"]]
        consent = rows(url, Customer.customer_id, Customer.push_consent).set_index("customer_id")
        for customer, campaign in zip(left["customer_id"], left["campaign"], strict=True):
            assert not consent.loc[customer, "push_consent"]
            later = mine[(mine["customer_id"] == customer) & (mine["campaign"] > campaign)]
            assert later.empty, f"{name} pushed {customer} after the opt-out"


def test_the_retrained_policy_learns_from_its_own_feedback(
    simulated: SimulationRun, workspace: Workspace
) -> None:
    (pipeline,) = simulated.pipelines
    assert pipeline["after_round"] == 1 and pipeline["rows_ingested"] > 0
    retrained = simulated.directory / RETRAINED
    ours = rows(simulated.databases[RETRAINED], SuggestionOutcome.suggestion_id)
    lake = read_table(retrained / "lake", Table.SUGGESTION_OUTCOMES, columns=["suggestion_id"])
    assert 0 < pipeline["outcomes_exported"] <= len(ours)
    assert set(lake["suggestion_id"]) & set(ours["suggestion_id"])
    snapshots = pd.read_parquet(retrained / "features" / "engagement")["event_timestamp"]
    assert snapshots.max() == workspace.clock.local(workspace.clock.round_start(1))
    gated = pipeline["models"][tips.NAME]
    assert gated["version"] == "2" and gated["alias"] in ("champion", "challenger")
    # The rounds' retraining logs metrics and models, not the plots nobody looks at.
    client = MlflowClient(tracking_uri=simulated.tracking_uri)
    retrained_run = client.get_model_version(tips.NAME, "2").run_id
    assert "plots" not in {a.path for a in client.list_artifacts(retrained_run)}
    assert client.get_run(retrained_run).data.metrics
    # The others kept the start's world: its lake never sees a simulated answer, its
    # registry (shared by every run of the workspace) never a new version.
    world = read_table(workspace.world.lake_dir, Table.SUGGESTION_OUTCOMES, ["suggestion_id"])
    assert not set(world["suggestion_id"]) & set(ours["suggestion_id"])
    tracking.configure(workspace.tracking_uri)
    versions = MlflowClient().search_model_versions(f"name='{tips.NAME}'")
    assert [str(v.version) for v in versions] == ["1"]


def test_the_policies_see_the_same_deployment_at_the_start(simulated: SimulationRun) -> None:
    first = simulated.pushes[simulated.pushes["campaign"] == 1]
    by_policy = {p: set(map(tuple, g[["customer_id", "kind", "item_id"]].to_numpy()))
                 for p, g in first.groupby("policy")}  # fmt: skip
    assert by_policy[POWERHALL] == by_policy[RETRAINED], "nothing has been learned yet"


def test_the_oracle_is_accepted_more_often_than_random_pushes(simulated: SimulationRun) -> None:
    rate = simulated.pushes.groupby("policy")["accepted"].mean()
    assert rate[ORACLE] > rate[RANDOM]


def test_the_report_tables_plots_and_logs_every_round(
    simulated: SimulationRun, reported: Report
) -> None:
    table = reported.table
    assert len(table) == ROUNDS * len(POLICIES)
    pushed = table[table["pushes"] > 0]
    assert (pushed["acceptance"] == pushed["accepted"] / pushed["pushes"]).all()
    assert reported.plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {g.what.split(",")[0] for g in reported.goals} == {
        "acceptance powerhall_retrained / most_popular",
        "acceptance powerhall_retrained / oracle",
        "expected acceptance powerhall_retrained / most_popular",
        "expected acceptance powerhall_retrained / oracle",
    }
    expected = pushed["expected_acceptance"]
    assert ((expected > 0) & (expected < 1)).all()
    client = MlflowClient(tracking_uri=simulated.tracking_uri)
    logged = client.get_run(reported.mlflow_run_id)
    assert client.get_experiment(logged.info.experiment_id).name == EXPERIMENT
    history = client.get_metric_history(reported.mlflow_run_id, f"{RETRAINED}_acceptance")
    assert sorted(m.step for m in history) == list(range(1, ROUNDS + 1))
    artifacts = {a.path for a in client.list_artifacts(reported.mlflow_run_id)}
    assert {"rounds.csv", "push_caps.csv", "pipelines.json", "pushes.parquet", "plots"} <= artifacts
    assert json.loads(json.dumps(reported.as_dict(), default=str))["caps_held"] is True


def test_a_run_refuses_what_it_cannot_do(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(PowerhallError, match="rounds"):
        run(workspace, tmp_path / "run", rounds=ROUNDS + 1)
    with pytest.raises(PowerhallError, match="retrains"):
        run(workspace, tmp_path / "run", retrain=("churn",))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(PowerhallError, match="not empty"):
        run(workspace, tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").exists()
