"""The one way command-line output gets a rich console (the CLI and `features` share it)."""

from __future__ import annotations

from rich.console import Console

_PIPED_WIDTH = 160


def make_console(*, stderr: bool = False) -> Console:
    """A console that does not elide report columns when output goes to a pipe or a log.

    Rich assumes 80 columns without a terminal, which cuts tariff names and ingest counts
    short exactly where operators read them later (CI logs, `make run` output).
    """
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console.width = max(console.width, _PIPED_WIDTH)
    return console
