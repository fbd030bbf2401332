"""The audit trail: every view of a customer's profile, by whom, when and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from serving.auth import Caller
from serving.db.tables import AuditEntry


def audit_row(
    *, caller: Caller, customer_id: str, action: str, reason: str, path: str, now: datetime
) -> dict[str, Any]:
    """The `audit_log` values of one view (served answers are written in batches, by
    `serving.recorder`; other views add the row to their session)."""
    return {
        "at": now,
        "key_id": caller.key_id,
        "role": str(caller.role),
        "customer_id": customer_id,
        "action": action,
        "reason": reason,
        "path": path,
    }


def record_view(
    session: Session,
    *,
    caller: Caller,
    customer_id: str,
    action: str,
    reason: str,
    path: str,
    now: datetime,
) -> None:
    """Add an audit row to the session; it commits with the view it records."""
    session.add(
        AuditEntry(
            **audit_row(
                caller=caller,
                customer_id=customer_id,
                action=action,
                reason=reason,
                path=path,
                now=now,
            )
        )
    )
