"""The `powerhall` command line: one Typer app, one module per command group."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

import features.cli
import serving.cli
import serving.demo
import serving.push.cli
import simulation.cli
import training.cli
from powerhall.cli import generate, ingest, tariffs
from powerhall.errors import PowerhallError


class _PowerhallGroup(TyperGroup):
    """Turns domain errors into a one-line reason and exit code 1, never a traceback."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PowerhallError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(1) from exc


app = typer.Typer(
    cls=_PowerhallGroup,
    name="powerhall",
    help="Personalised suggestions for electricity retail.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("generate")(generate.generate)
app.command("ingest")(ingest.ingest)
app.add_typer(tariffs.app, name="tariffs")
app.add_typer(features.cli.app, name="features")
app.command("train")(training.cli.train)
app.command("score")(training.cli.score)
app.add_typer(training.cli.models_app, name="models")
app.add_typer(serving.cli.db_app, name="db")
app.add_typer(serving.cli.keys_app, name="keys")
app.add_typer(serving.cli.feedback_app, name="feedback")
app.command("serve")(serving.cli.serve)
app.command("demo")(serving.demo.demo)
app.add_typer(serving.push.cli.app, name="push")
app.command("simulate")(simulation.cli.simulate)
