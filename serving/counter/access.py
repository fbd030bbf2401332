"""Who may watch and post to a counter: that hall's counter keys, and admins."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Path

from serving.auth import Caller, Role

ID_PATTERN: Final = r"^[A-Za-z0-9_-]{1,64}$"
"""Hall and counter ids: they name Redis channels and URLs, so no separators or spaces."""

HallId = Annotated[str, Path(pattern=ID_PATTERN, description="The hall.", examples=["H01"])]
CounterId = Annotated[
    str, Path(pattern=ID_PATTERN, description="A counter of the hall.", examples=["C1"])
]


def may_use_counter(caller: Caller, hall_id: str) -> bool:
    return caller.role is Role.ADMIN or (caller.role is Role.COUNTER and caller.hall_id == hall_id)
