"""`powerhall train` and `powerhall models`: retrain a risk model, move the champion alias.

MLflow, LightGBM and scikit-learn are imported inside the commands: `powerhall --help`
and the other command groups should not pay for them.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from powerhall.console import make_console
from powerhall.settings import get_settings

app = typer.Typer(help="Train risk models, tracked in MLflow.", no_args_is_help=True)
models_app = typer.Typer(help="Registered models and their champion alias.", no_args_is_help=True)
app.add_typer(models_app, name="models")


class RiskModelName(StrEnum):
    CHURN = "churn"
    COMPLAINT = "complaint"


class Calibration(StrEnum):
    ISOTONIC = "isotonic"
    SIGMOID = "sigmoid"


@app.command("train")
def train(
    model: Annotated[RiskModelName, typer.Argument(help="Which model to train.")],
    cutoff: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Test on snapshots from this day on; train on label windows ending by it "
            "(default: the last 13 weekly snapshots are the test window).",
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Training seed (default: settings).")] = None,
    calibration: Annotated[Calibration, typer.Option(help="Probability calibration.")] = (
        Calibration.ISOTONIC
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
    table: Annotated[
        Path | None,
        typer.Option(help="Train on this CSV or Parquet table instead of the profiles."),
    ] = None,
    label: Annotated[str | None, typer.Option(help="The table's 0/1 label column.")] = None,
    id_column: Annotated[
        str | None, typer.Option("--id", help="The table's row identifier column.")
    ] = None,
    time: Annotated[
        str | None, typer.Option(help="The table's time column: split by it (else at random).")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Registered model name for --table (default: file stem).")
    ] = None,
) -> None:
    """Train, evaluate against the baselines and the oracle, register, run the promotion gate."""
    if table is not None:
        _train_table(table, label, id_column, time, name, seed, calibration, as_json)
        return
    from training import churn, complaint
    from training.classifier import train_risk

    spec = {RiskModelName.CHURN: churn.SPEC, RiskModelName.COMPLAINT: complaint.SPEC}[model]
    result = train_risk(
        spec,
        get_settings(),
        cutoff=cutoff.date() if cutoff else None,
        seed=seed,
        calibration=calibration.value,
    )
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2, default=str))
        return
    console = make_console()
    table = Table("scorer", "AUC", "PR-AUC", "Brier", "ECE", "lift@10%", title=f"{model} test")
    for scorer, m in result.metrics.items():
        table.add_row(
            scorer,
            *(f"{m[k]:.4f}" for k in ("auc", "pr_auc", "brier", "ece")),
            f"{m['lift_top_decile']:.2f}",
        )
    console.print(table)
    console.print(f"test snapshots {result.window['test_min']} .. {result.window['test_max']}")
    console.print(f"version {result.version} -> {result.decision.alias}: {result.decision.reason}")


def _train_table(
    table: Path,
    label: str | None,
    id_column: str | None,
    time: str | None,
    name: str | None,
    seed: int | None,
    calibration: Calibration,
    as_json: bool,
) -> None:
    from training.table import train_table

    if label is None or id_column is None:
        raise typer.BadParameter("--table needs --label and --id")
    result = train_table(
        table,
        label=label,
        id_column=id_column,
        time=time,
        name=name,
        seed=get_settings().seed if seed is None else seed,
        calibration=calibration.value,
    )
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2, default=str))
        return
    console = make_console()
    rows = result.rows
    metrics = Table(
        "scorer", "AUC", "PR-AUC", "Brier", "ECE", "lift@10%", title=f"{result.name} test"
    )
    for scorer, m in result.metrics.items():
        metrics.add_row(
            scorer,
            *(f"{m[k]:.4f}" for k in ("auc", "pr_auc", "brier", "ece")),
            f"{m['lift_top_decile']:.2f}",
        )
    console.print(metrics)
    console.print(f"split: {result.split}")
    console.print(
        f"rows fit/calibrate/test {rows['fit']}/{rows['calibrate']}/{rows['test']}, "
        f"positives {rows['fit_positives']}/{rows['calibrate_positives']}/"
        f"{rows['test_positives']}"
    )
    console.print(", ".join(f"{kind}: {cols or '-'}" for kind, cols in result.columns.items()))
    console.print(f"oracle: {result.oracle}")
    console.print(f"version {result.version} -> {result.decision.alias}: {result.decision.reason}")


@app.command("score")
def score(
    model: Annotated[
        list[RiskModelName] | None,
        typer.Option(help="Only these models (repeatable; default: every one with a champion)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Score every active customer with every champion model into the feature store's scores."""
    from training.score import COLUMNS
    from training.score import score as score_customers

    console = make_console(stderr=True)
    run = score_customers(
        get_settings(), models=[m.value for m in model] if model else tuple(COLUMNS)
    )
    for skipped, why in run.skipped.items():
        console.print(f"[yellow]skipped {skipped}[/yellow]: {why}")
    if as_json:
        typer.echo(json.dumps(asdict(run), indent=2, default=str))
        return
    console.print(
        f"scored {run.customers:,} customers with "
        + ", ".join(f"{n} v{v}" for n, v in run.models.items())
        + f" into {run.path}; tariff fields left empty (tariff_fit not yet trained)"
    )


@models_app.command("list")
def list_models(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Registered models with their champion, challenger and champion history."""
    from training import registry, tracking

    tracking.configure()
    summaries = registry.list_models()
    if as_json:
        typer.echo(json.dumps([asdict(s) for s in summaries], indent=2))
        return
    table = Table("model", "latest", "champion", "challenger", "champion history")
    for s in summaries:
        table.add_row(
            s.name,
            s.latest_version,
            s.champion or "-",
            s.challenger or "-",
            " -> ".join(s.champion_history) or "-",
        )
    make_console().print(table)


@models_app.command("promote")
def promote(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[str, typer.Argument(help="Version to make champion.")],
) -> None:
    """Give `champion` to a version by hand, bypassing the gate."""
    from training import registry, tracking

    tracking.configure()
    registry.promote(name, version)
    typer.echo(f"{name} version {version} is champion")


@models_app.command("rollback")
def rollback(name: Annotated[str, typer.Argument(help="Registered model name.")]) -> None:
    """Give `champion` back to the version that held it before."""
    from training import registry, tracking

    tracking.configure()
    version = registry.rollback(name)
    typer.echo(f"{name} version {version} is champion again")
