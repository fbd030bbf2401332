"""Reading one profile's values: features come back from the online store as Python
values or None, and a missing value must never become a number by accident."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any


def number(features: dict[str, Any], name: str) -> float | None:
    """The feature as a float; None when missing, NaN, or not a number."""
    value = features.get(name)
    if value is None or isinstance(value, str | datetime):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(result) else result
