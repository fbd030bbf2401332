"""A simulation's rounds as a table, the goals, the push caps, a plot and an MLflow run.

Per round and policy: pushes sent, customers reached, pushes accepted and the acceptance
rate, the expected acceptance (the mean of the truth's probability over the same pushes:
the rate without the luck of the draws, which at a few hundred pushes moves a ratio by
10 to 20 %), the yuan a year the accepted suggestions save their customers (the truth's benefit;
a tariff switch can lose money), and opt-outs. The goals compare the retrained engine with
the most-popular baseline (at least 2x its acceptance) and the oracle (at least 0.8x), in
the last round (after the loop has learned) and over all rounds, on the acceptance and on
the expected acceptance. The caps are read back
from each policy's outbox, the push log: the most pushes any customer got in any 7 and any
30 days, against the contact policy's weekly and monthly caps.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd
from sqlalchemy import select

from powerhall.settings import ContactPolicy
from serving.db.engine import make_engine, session_factory
from serving.push.tables import OutboxMessage, OutboxStatus
from simulation.loop import SimulationRun
from simulation.policies import MOST_POPULAR, ORACLE, POLICIES, RETRAINED
from training import tracking

EXPERIMENT: Final = "simulation"
PUSHES_FILE: Final = "pushes.parquet"
"""Every push with its answer, beside the run and in its MLflow artifacts."""
GOAL_VS_POPULAR: Final = 2.0
GOAL_VS_ORACLE: Final = 0.8
ROUND_COLUMNS: Final = (
    "round",
    "policy",
    "pushes",
    "customers",
    "accepted",
    "acceptance",
    "expected_acceptance",
    "yuan_saved",
    "opt_outs",
)


def rounds_table(run: SimulationRun) -> pd.DataFrame:
    """One row per round and policy (`ROUND_COLUMNS`), a policy without pushes included."""
    rounds = range(1, int(run.parameters["rounds"]) + 1)
    index = pd.MultiIndex.from_product([rounds, POLICIES], names=["round", "policy"])
    pushes = run.pushes
    table = (
        pushes.groupby(["round", "policy"])
        .agg(
            pushes=("accepted", "size"),
            customers=("customer_id", "nunique"),
            accepted=("accepted", "sum"),
            expected=("p_accept", "sum"),
            yuan_saved=("benefit_cny_year", "sum"),
            opt_outs=("opted_out", "sum"),
        )
        .reindex(index, fill_value=0)
        .reset_index()
    )
    table["acceptance"] = table["accepted"] / table["pushes"].where(table["pushes"] > 0)
    table["expected_acceptance"] = table["expected"] / table["pushes"].where(table["pushes"] > 0)
    table["yuan_saved"] = table["yuan_saved"].astype(float).round(2)
    return table[list(ROUND_COLUMNS)]


def push_caps(run: SimulationRun, policy: ContactPolicy) -> pd.DataFrame:
    """Per policy, from its outbox: pushes queued, the most any customer got in any 7 and
    any 30 days, and whether that stays within the weekly and monthly caps."""
    rows = []
    for name, url in run.databases.items():
        engine = make_engine(url)
        with session_factory(engine)() as session:
            log = pd.DataFrame(
                session.execute(
                    select(OutboxMessage.customer_id, OutboxMessage.created_at).where(
                        OutboxMessage.status != OutboxStatus.DEAD
                    )
                ).all(),
                columns=["customer_id", "created_at"],
            )
        engine.dispose()
        week = month = 0
        if not log.empty:
            log["created_at"] = pd.to_datetime(log["created_at"], utc=True)
            log = log.sort_values(["customer_id", "created_at"]).set_index("created_at")
            counts = log.assign(one=1).groupby("customer_id")["one"]
            week = int(counts.rolling("7D").sum().max())
            month = int(counts.rolling("30D").sum().max())
        rows.append(
            {
                "policy": name,
                "pushes": len(log),
                "most_in_7_days": week,
                "weekly_cap": policy.push_per_week,
                "most_in_30_days": month,
                "monthly_cap": policy.push_per_month,
                "caps_held": week <= policy.push_per_week and month <= policy.push_per_month,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Goal:
    what: str
    measured: float
    goal: float

    @property
    def met(self) -> bool:
        return not math.isnan(self.measured) and self.measured >= self.goal


MEASURES: Final = (("acceptance", "accepted"), ("expected acceptance", "p_accept"))
"""What the goals compare: the answers drawn, and the truth's probability of the same pushes."""


def _mean(pushes: pd.DataFrame, policy: str, column: str) -> float:
    mine = pushes[pushes["policy"] == policy]
    return float(mine[column].mean()) if len(mine) else math.nan


def goals(run: SimulationRun) -> list[Goal]:
    """The retrained engine's acceptance and expected acceptance over the most-popular
    baseline's and the oracle's, in the last round and over every round."""
    last = int(run.parameters["rounds"])
    found = []
    for measure, column in MEASURES:
        for scope, pushes in (
            (f"round {last}", run.pushes[run.pushes["round"] == last]),
            ("all rounds", run.pushes),
        ):
            ours = _mean(pushes, RETRAINED, column)
            for other, goal in ((MOST_POPULAR, GOAL_VS_POPULAR), (ORACLE, GOAL_VS_ORACLE)):
                theirs = _mean(pushes, other, column)
                ratio = ours / theirs if theirs and not math.isnan(theirs) else math.nan
                found.append(Goal(f"{measure} {RETRAINED} / {other}, {scope}", ratio, goal))
    return found


def plot(table: pd.DataFrame, path: Path) -> Path:
    """Acceptance and yuan saved per round, one line per policy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for policy in POLICIES:
        mine = table[table["policy"] == policy]
        left.plot(mine["round"], mine["acceptance"], marker="o", label=policy)
        right.plot(mine["round"], mine["yuan_saved"], marker="o", label=policy)
    rounds = sorted(table["round"].unique())
    left.set(xlabel="round", ylabel="acceptance", title="Pushes accepted", xticks=rounds)
    right.set(xlabel="round", ylabel="yuan a year", title="Yuan saved by customers", xticks=rounds)
    left.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def log_run(run: SimulationRun, table: pd.DataFrame, caps: pd.DataFrame, plot_path: Path) -> str:
    """One MLflow run in the run's own registry store (experiment `simulation`): the
    parameters, each policy's metrics per round (step = round), the goals, and the table,
    caps, pipelines, pushes and plot as artifacts. Returns the run id."""
    import mlflow

    tracking.configure(run.tracking_uri)
    tracking.use_experiment(EXPERIMENT)
    with mlflow.start_run(run_name=f"closed-loop-{run.parameters['rounds']}-rounds") as active:
        mlflow.log_params(run.parameters)
        for row in table.itertuples(index=False):
            for metric in ROUND_COLUMNS[2:]:
                value = float(getattr(row, metric))
                if not math.isnan(value):
                    mlflow.log_metric(f"{row.policy}_{metric}", value, step=int(row.round))
        mlflow.log_metrics(
            {_metric_name(g.what): g.measured for g in goals(run) if not math.isnan(g.measured)}
            | {f"seconds_{name}": value for name, value in run.seconds.items()}
        )
        mlflow.set_tag("caps_held", str(bool(caps["caps_held"].all())).lower())
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            table.to_csv(folder / "rounds.csv", index=False)
            caps.to_csv(folder / "push_caps.csv", index=False)
            (folder / "pipelines.json").write_text(json.dumps(run.pipelines, indent=2))
            for name in ("rounds.csv", "push_caps.csv", "pipelines.json"):
                mlflow.log_artifact(str(folder / name))
            run.pushes.to_parquet(folder / PUSHES_FILE, index=False)
            mlflow.log_artifact(str(folder / PUSHES_FILE))
        mlflow.log_artifact(str(plot_path), artifact_path="plots")
    return str(active.info.run_id)


def _metric_name(what: str) -> str:
    """'acceptance a / b, round 3' -> 'acceptance_a_b_round_3'."""
    return re.sub(r"[^0-9A-Za-z]+", "_", what).strip("_")


@dataclass(frozen=True)
class Report:
    table: pd.DataFrame
    caps: pd.DataFrame
    goals: list[Goal]
    plot: Path
    mlflow_run_id: str

    @property
    def caps_held(self) -> bool:
        return bool(self.caps["caps_held"].all())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the rounds, caps and goals (the CLI's --json, the benchmark's rows)."""
        return {
            "rounds": self.table.to_dict(orient="records"),
            "caps": self.caps.to_dict(orient="records"),
            "caps_held": self.caps_held,
            "goals": [
                {"what": g.what, "measured": g.measured, "goal": g.goal, "met": g.met}
                for g in self.goals
            ],
            "plot": str(self.plot),
            "mlflow_run_id": self.mlflow_run_id,
        }


def report(run: SimulationRun, policy: ContactPolicy) -> Report:
    """The rounds' table, caps from the push log and goals, plotted and logged to MLflow."""
    table = rounds_table(run)
    caps = push_caps(run, policy)
    path = plot(table, run.directory / "rounds.png")
    run.pushes.to_parquet(run.directory / PUSHES_FILE, index=False)
    return Report(table, caps, goals(run), path, log_run(run, table, caps, path))
