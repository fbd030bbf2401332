"""`powerhall simulate`: the closed loop on a synthetic population, policy against policy.

Feast, MLflow and LightGBM are imported inside the command: `powerhall --help` and the
other command groups should not pay for them.
"""

from __future__ import annotations

import json
import math
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from powerhall.console import make_console
from powerhall.settings import get_settings

if TYPE_CHECKING:  # the report's modules import Feast and MLflow: only inside the command
    from simulation.loop import SimulationRun
    from simulation.report import Report


class Retrain(StrEnum):
    TIPS = "tips"
    TARIFF_FIT = "tariff_fit"


def _number(value: float, digits: int = 3) -> str:
    return "-" if isinstance(value, float) and math.isnan(value) else f"{value:.{digits}f}"


def simulate(
    customers: Annotated[int, typer.Option(min=1, help="Synthetic customers.")] = 300,
    rounds: Annotated[int, typer.Option(min=1, help="Rounds of two weeks each.")] = 3,
    seed: Annotated[
        int | None, typer.Option(min=0, help="World and answers' seed (default: settings, 7).")
    ] = None,
    history_days: Annotated[
        int, typer.Option(min=300, help="Days of data before the first round.")
    ] = 450,
    out: Annotated[
        Path | None,
        typer.Option(help="Workspace and run directory (default: <data dir>/simulation)."),
    ] = None,
    retrain: Annotated[
        list[Retrain] | None,
        typer.Option(help="Models retrained between rounds (repeatable; default: both)."),
    ] = None,
    no_retrain: Annotated[
        bool, typer.Option("--no-retrain", help="Retrain nothing (features are still rebuilt).")
    ] = False,
    exploration_share: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Answers that explore (default: settings, 0.1)."),
    ] = None,
    pushes_per_campaign: Annotated[
        int, typer.Option(min=1, max=4, help="Pushes per customer and weekly campaign.")
    ] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Deploy powerhall on a generated world, then run weekly app campaigns for each policy
    (random, most popular, powerhall, powerhall retrained every round, oracle), answered
    by the hidden truth, with feedback, feature rebuilds and retraining between rounds."""
    from simulation.loop import run
    from simulation.report import report
    from simulation.workspace import prepare

    settings = get_settings()
    root = settings.data_dir / "simulation" if out is None else out
    models = [] if no_retrain else [m.value for m in (retrain or list(Retrain))]
    console = make_console(stderr=as_json)
    began = time.perf_counter()
    workspace = prepare(
        root / "workspace",
        customers=customers,
        rounds=rounds,
        seed=settings.seed if seed is None else seed,
        history_days=history_days,
        timezone=settings.timezone,
        progress=console.print,
    )
    prepared = time.perf_counter() - began
    result = run(
        workspace,
        root / "run",
        retrain=models,
        exploration_share=(
            settings.exploration_share if exploration_share is None else exploration_share
        ),
        pushes_per_campaign=pushes_per_campaign,
        progress=console.print,
    )
    done = report(result, settings.contact_policy)
    timing = {"prepare": prepared, **result.seconds, "total": time.perf_counter() - began}
    if as_json:
        typer.echo(json.dumps(done.as_dict() | {"seconds": timing}, indent=2, default=str))
        return
    show(console, done, result, timing)


def show(console: Console, done: Report, result: SimulationRun, timing: dict[str, float]) -> None:
    """The rounds, goals, caps, pipelines and timings as tables and lines."""
    customers, rounds = result.parameters["customers"], result.parameters["rounds"]
    rounds_table = Table(
        "round", "policy", "pushes", "customers", "accepted", "acceptance", "expected",
        "yuan saved/yr", "opt-outs",
        title=f"{customers:,} customers, {rounds} rounds of two weeks",
    )  # fmt: skip
    for row in done.table.itertuples(index=False):
        rounds_table.add_row(
            str(row.round), row.policy, str(row.pushes), str(row.customers), str(row.accepted),
            _number(row.acceptance), _number(row.expected_acceptance),
            f"{row.yuan_saved:,.0f}", str(row.opt_outs),
        )  # fmt: skip
    console.print(rounds_table)
    goals = Table("goal", "measured", "needed", "met")
    for goal in done.goals:
        goals.add_row(goal.what, _number(goal.measured, 2), f"{goal.goal:g}", str(goal.met))
    console.print(goals)
    caps = Table("policy", "pushes", "most in 7 days", "most in 30 days", "caps held")
    for cap in done.caps.itertuples(index=False):
        caps.add_row(
            cap.policy, str(cap.pushes), f"{cap.most_in_7_days} / {cap.weekly_cap}",
            f"{cap.most_in_30_days} / {cap.monthly_cap}", str(cap.caps_held),
        )  # fmt: skip
    console.print(caps)
    for pipeline in result.pipelines:
        verdicts = ", ".join(
            f"{name} v{m['version']} {m['alias']}" for name, m in pipeline["models"].items()
        )
        console.print(
            f"after round {pipeline['after_round']}: {pipeline['rows_ingested']:,} rows ingested, "
            f"{pipeline['outcomes_exported']} outcomes exported, profiles rebuilt; "
            f"{verdicts or 'nothing retrained'}"
        )
    console.print("seconds: " + ", ".join(f"{name} {value:.1f}" for name, value in timing.items()))
    console.print(f"plot {done.plot}; MLflow run {done.mlflow_run_id}:")
    console.print(f"  mlflow ui --backend-store-uri {result.tracking_uri}")
