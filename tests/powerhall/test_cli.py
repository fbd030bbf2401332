"""The CLI as a whole: every command documents itself, and failures are one line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from powerhall.cli import app
from powerhall.errors import PowerhallError

runner = CliRunner()


def _command_paths(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Walks typer's own click tree (typer vendors click, so no isinstance on click.Group)."""
    for name, command in group.commands.items():
        path = (*prefix, name)
        yield path
        if hasattr(command, "commands"):
            yield from _command_paths(command, path)


ALL_COMMANDS = list(_command_paths(typer.main.get_command(app)))


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    assert (command.help or "").strip(), f"`powerhall {' '.join(path)}` has no help text"


def test_domain_error_is_one_line_and_exit_1() -> None:
    failing = typer.Typer()

    @failing.command()
    def boom() -> None:
        raise PowerhallError("the lake at /nowhere does not exist")

    app.add_typer(failing, name="_failing_for_test")
    try:
        result = runner.invoke(app, ["_failing_for_test", "boom"])
    finally:
        app.registered_groups.pop()
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["Error: the lake at /nowhere does not exist"]
