"""How a pydantic validation error of a data file (tariff, tips catalogue) reads to a person."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def describe_error(error: Any, *, file_format: str, loc: Sequence[object] | None = None) -> str:
    """One problem as `field.path: message`, worded for someone editing the file.

    `loc` replaces pydantic's location when the caller can name it better (a tip by its
    id rather than its list position). Unknown keys say which format they are not part of.
    """
    where = ".".join(str(part) for part in (error["loc"] if loc is None else loc))
    if error["type"] == "extra_forbidden":
        message = f"unknown key (not part of the {file_format} format)"
    elif error["type"] == "value_error":
        message = str(error["ctx"]["error"])
    else:
        message = error["msg"]
    return f"{where}: {message}" if where else message
