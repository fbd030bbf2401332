"""Reading the project's YAML data files (tariffs, tips catalogue) and wording their errors."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from powerhall.errors import PowerhallError


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; a repeated key would hide an edit."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in keys:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice", key_node.start_mark
                )
            keys.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml_mapping(
    path: Path, *, what: str, error: type[PowerhallError], top_level: str
) -> dict[str, Any]:
    """A data file's top-level mapping; unreadable files, bad YAML and repeated keys raise
    `error` naming the file (`what` is e.g. "tariff file", `top_level` what was expected)."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except OSError as exc:
        raise error(f"{what} {path}: cannot read it ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise error(f"{what} {path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise error(f"{what} {path}: expected {top_level} at the top level")
    return raw


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
