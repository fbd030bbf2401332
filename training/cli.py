"""`powerhall train` and `powerhall models`: retrain a risk model, move the champion alias.

MLflow, LightGBM and scikit-learn are imported inside the commands: `powerhall --help`
and the other command groups should not pay for them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

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
    TIPS = "tips"
    TARIFF_FIT = "tariff_fit"
    ALL = "all"


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
    models = [m for m in RiskModelName if m is not RiskModelName.ALL]
    results = {
        each: _train_one(each, cutoff.date() if cutoff else None, seed, calibration)
        for each in (models if model is RiskModelName.ALL else [model])
    }
    if as_json:
        payload = {str(each): result.as_dict() for each, result in results.items()}
        one = payload[str(model)] if model is not RiskModelName.ALL else payload
        typer.echo(json.dumps(one, indent=2, default=str))
        return
    for each, result in results.items():
        _SHOW[each](result)


def _train_one(
    model: RiskModelName, cutoff: date | None, seed: int | None, calibration: Calibration
) -> Any:
    """Train one model of the profiles; `all` trains them in turn, each through its gate."""
    settings = get_settings()
    if model is RiskModelName.TIPS:
        from training.tips import train_tips

        return train_tips(settings, cutoff=cutoff, seed=seed)
    if model is RiskModelName.TARIFF_FIT:
        from training.tariff_fit import train_tariff_fit

        return train_tariff_fit(settings, cutoff=cutoff, seed=seed, calibration=calibration.value)
    from training import churn, complaint
    from training.classifier import train_risk

    spec = {RiskModelName.CHURN: churn.SPEC, RiskModelName.COMPLAINT: complaint.SPEC}[model]
    return train_risk(spec, settings, cutoff=cutoff, seed=seed, calibration=calibration.value)


def _show_risk(result: Any) -> None:
    console = make_console()
    table = Table(
        "scorer", "AUC", "PR-AUC", "Brier", "ECE", "lift@10%", title=f"{result.name} test"
    )
    for scorer, m in result.metrics.items():
        table.add_row(
            scorer,
            *(f"{m[k]:.4f}" for k in ("auc", "pr_auc", "brier", "ece")),
            f"{m['lift_top_decile']:.2f}",
        )
    console.print(table)
    console.print(f"test snapshots {result.window['test_min']} .. {result.window['test_max']}")
    console.print(f"version {result.version} -> {result.decision.alias}: {result.decision.reason}")


def _show_tips(result: Any) -> None:
    from training.tips import K

    console = make_console()
    table = Table("scorer", *(f"NDCG@{k}" for k in (1, K, 5)), "truth NDCG@3", title="tips test")
    for scorer, m in result.metrics.items():
        table.add_row(
            scorer,
            *(
                f"{m[key]:.4f}" if key in m else "-"
                for key in ("ndcg_at_1", f"ndcg_at_{K}", "ndcg_at_5", f"truth_ndcg_at_{K}")
            ),
        )
    console.print(table)
    rows = result.rows
    console.print(
        f"test tips shown {result.window['test_min']} .. {result.window['test_max']}: "
        f"{rows['test_queries_informative']} of {rows['test_queries']} customers with an "
        "accepted and a not-accepted tip"
    )
    console.print(f"version {result.version} -> {result.decision.alias}: {result.decision.reason}")


def _show_tariff_fit(result: Any) -> None:
    console = make_console()
    saving = result.metrics["saving"]
    console.print(
        f"savings check, {result.window['saving_months']} months from "
        f"{result.window['saving_cutoff']}: median error {saving['saving_error_share_median']:.1%}"
        f" of the true saving ({saving['saving_abs_error_cny_median']:.2f} yuan) over "
        f"{saving['pairs']:.0f} switches; P10-P90 band holds "
        f"{saving['saving_band_coverage']:.0%} of the true savings"
    )
    table = Table("scorer", "AUC", "PR-AUC", "Brier", "ECE", "lift@10%", title="acceptance test")
    for scorer, m in result.metrics.items():
        if scorer != "saving":
            table.add_row(
                scorer,
                *(f"{m[k]:.4f}" for k in ("auc", "pr_auc", "brier", "ece")),
                f"{m['lift_top_decile']:.2f}",
            )
    console.print(table)
    console.print(f"test offers {result.window['test_min']} .. {result.window['test_max']}")
    console.print(f"version {result.version} -> {result.decision.alias}: {result.decision.reason}")


_SHOW: dict[RiskModelName, Callable[[Any], None]] = {
    RiskModelName.CHURN: _show_risk,
    RiskModelName.COMPLAINT: _show_risk,
    RiskModelName.TIPS: _show_tips,
    RiskModelName.TARIFF_FIT: _show_tariff_fit,
}


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
    from training.score import MODELS
    from training.score import score as score_customers

    console = make_console(stderr=True)
    run = score_customers(get_settings(), models=[m.value for m in model] if model else MODELS)
    for skipped, why in run.skipped.items():
        console.print(f"[yellow]skipped {skipped}[/yellow]: {why}")
    if as_json:
        typer.echo(json.dumps(asdict(run), indent=2, default=str))
        return
    console.print(
        f"scored {run.customers:,} customers with "
        + ", ".join(f"{n} v{v}" for n, v in run.models.items())
        + f" into {run.path}"
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
