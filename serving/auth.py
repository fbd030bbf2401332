"""API keys and roles, what a key may see, masking of personal data, and the rate limit.

A token (`ph_` + 32 random bytes, URL-safe) is shown once when created; only its SHA-256
is stored, so a leaked database does not leak working keys. Roles:
- counter: scoped to one hall; sees a customer only while a session identified them at a
  counter of that hall within `Settings.counter_session_minutes`;
- app: the app's channel (inbox, app suggestions, feedback, app-login events);
- admin: everything.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from powerhall.errors import InvalidRequestError, NotFoundError
from serving.db.tables import ApiKey, CounterSession

TOKEN_PREFIX = "ph_"
DISPLAY_PREFIX = 8


class Role(StrEnum):
    COUNTER = "counter"
    APP = "app"
    ADMIN = "admin"


@dataclass(frozen=True)
class Caller:
    """The authenticated key of a request (no ORM object outlives its session)."""

    key_id: int
    name: str
    role: Role
    hall_id: str | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_key(
    session: Session, *, role: Role, name: str, hall_id: str | None, now: datetime
) -> tuple[ApiKey, str]:
    """A new key and its token; the token is not kept anywhere and cannot be shown again."""
    if role == Role.COUNTER and not hall_id:
        raise InvalidRequestError("a counter key belongs to one hall: pass --hall")
    if role != Role.COUNTER and hall_id:
        raise InvalidRequestError(f"only counter keys are scoped to a hall, not {role} keys")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name or f"{role}-{now:%Y%m%d%H%M%S}",
        role=str(role),
        hall_id=hall_id,
        key_hash=hash_token(token),
        prefix=token[:DISPLAY_PREFIX],
        created_at=now,
    )
    session.add(key)
    session.commit()
    return key, token


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, *, key_id: int, now: datetime) -> ApiKey:
    """Revoke a key (kept for the audit trail); revoking twice keeps the first time."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFoundError(f"no API key with id {key_id}")
    if key.revoked_at is None:
        key.revoked_at = now
        session.commit()
    return key


_LIVE_KEY = select(ApiKey.id, ApiKey.name, ApiKey.role, ApiKey.hall_id).where(
    ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None)
)


def find_caller(session: Session, token: str) -> Caller | None:
    """The live key a token belongs to, or None (unknown or revoked).

    Asked on every request, so the statement is built once and reads the four columns on
    the session's connection (an ORM object of the key costs three times as much)."""
    key = session.connection().execute(_LIVE_KEY, {"key_hash": hash_token(token)}).first()
    if key is None:
        return None
    return Caller(key_id=key.id, name=key.name, role=Role(key.role), hall_id=key.hall_id)


def identified_in_hall(
    session: Session, *, hall_id: str, customer_id: str, since: datetime
) -> bool:
    """Whether a counter of `hall_id` identified the customer at or after `since`."""
    found = session.scalar(
        select(CounterSession.id)
        .where(
            CounterSession.customer_id == customer_id,
            CounterSession.hall_id == hall_id,
            CounterSession.started_at >= since,
        )
        .limit(1)
    )
    return found is not None


def counter_window_start(now: datetime, minutes: int) -> datetime:
    return now - timedelta(minutes=minutes)


def mask_phone(phone: str | None) -> str | None:
    """`13812345678` -> `138****5678`: enough for staff to confirm with the customer."""
    if phone is None:
        return None
    digits = phone.strip()
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_account(account_no: str | None) -> str | None:
    """Only the last four characters of an account number are shown."""
    if account_no is None:
        return None
    if len(account_no) <= 4:
        return "*" * len(account_no)
    return "*" * (len(account_no) - 4) + account_no[-4:]


class RateLimiter:
    """At most `limit` requests per key in any sliding 60-second window, in this process.

    Several API workers each keep their own window (the limit is per worker); that is
    enough to stop a runaway client without a shared store on the hot path.
    """

    WINDOW_SECONDS = 60.0

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._hits: dict[int, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key_id: int, now: float) -> float | None:
        """Count a request at `now` (monotonic seconds); None if allowed, else seconds to wait."""
        with self._lock:
            hits = self._hits.setdefault(key_id, deque())
            while hits and hits[0] <= now - self.WINDOW_SECONDS:
                hits.popleft()
            if len(hits) >= self._limit:
                return hits[0] + self.WINDOW_SECONDS - now
            hits.append(now)
            return None
