"""What a handler may ask for, as `Annotated` dependencies: the database session, the
settings, the profile reader, the caller's key and role, the language, the clock.

Everything comes from `app.state` (opened once by the lifespan), so that tests build an
app on their own database and swap a dependency (e.g. the clock) instead of patching.

A dependency that only reads `app.state` or a header is `async def`: FastAPI runs a plain
`def` dependency on a worker thread, and a thread hop per dependency costs more than
what these do. The session is `async` too (see `_session`); the key check, which queries
the database, stays `def`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from features.online import OnlineProfiles
from powerhall.settings import Settings
from serving.answers import Answering
from serving.auth import Caller, RateLimiter, Role, find_caller
from serving.errors import api_error
from serving.metrics import ServiceMetrics
from serving.suggestions.engine import Suggester

KEY_COOKIE = "powerhall_key"
LANGUAGES = ("zh-CN", "en")


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _session(request: Request) -> AsyncIterator[Session]:
    """A session for the request. Opening one does no I/O (it connects on first use), and
    closing one whose work was committed or handed back only drops Python objects, so
    neither needs a worker thread; one left inside a transaction is rolled back on one."""
    session: Session = request.app.state.sessions()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


async def _profiles(request: Request) -> OnlineProfiles | None:
    """None when the online store could not be opened: answers are then degraded."""
    return request.app.state.profiles


async def _metrics(request: Request) -> ServiceMetrics:
    return request.app.state.metrics


async def _suggester(request: Request) -> Suggester:
    return request.app.state.suggester


async def _answering(request: Request) -> Answering:
    """The four parts of the app an answer needs, as one dependency: FastAPI resolves each
    dependency of a request on its own, at a cost the hot path feels."""
    state = request.app.state
    return Answering(state.suggester, state.profiles, state.recorder, state.metrics)


async def _now() -> datetime:
    return datetime.now(UTC)


SettingsDep = Annotated[Settings, Depends(_settings)]
SessionDep = Annotated[Session, Depends(_session)]
ProfilesDep = Annotated[OnlineProfiles | None, Depends(_profiles)]
MetricsDep = Annotated[ServiceMetrics, Depends(_metrics)]
SuggesterDep = Annotated[Suggester, Depends(_suggester)]
AnsweringDep = Annotated[Answering, Depends(_answering)]
NowDep = Annotated[datetime, Depends(_now)]
"""The request's time (aware UTC); tests override `_now` to move the clock."""

_header_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")
_bearer_key = HTTPBearer(auto_error=False, description="`Authorization: Bearer <key>`.")
_cookie_key = APIKeyCookie(
    name=KEY_COOKIE, auto_error=False, description="Set by the counter page (HttpOnly)."
)


def _caller(
    request: Request,
    session: SessionDep,
    header: Annotated[str | None, Depends(_header_key)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_key)],
    cookie: Annotated[str | None, Depends(_cookie_key)],
) -> Caller:
    """The live key of the request (401 otherwise), counted against its rate limit (429).

    The lookup's connection goes back to the pool at once: a request must not hold one
    while it waits for a worker thread (for the handler), or, with more requests in
    flight than connections, threads would wait for connections held by requests that
    wait for threads, until the pool's timeout.
    """
    token = header or (bearer.credentials if bearer else None) or cookie
    if not token:
        raise api_error(
            401,
            "missing_api_key",
            "an API key is required (X-API-Key, Authorization: Bearer, or the key cookie)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    caller = find_caller(session, token)
    session.close()
    if caller is None:
        raise api_error(
            401,
            "invalid_api_key",
            "the API key is unknown or revoked",
            headers={"WWW-Authenticate": "Bearer"},
        )
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.retry_after(caller.key_id, time.monotonic())
    if wait is not None:
        seconds = max(1, int(wait + 0.999))
        raise api_error(
            429,
            "rate_limited",
            f"too many requests for this key; retry in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )
    return caller


ApiKeyDep = Annotated[Caller, Depends(_caller)]


def require_roles(*roles: Role | str) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency that lets only keys of `roles` through (403 otherwise)."""
    allowed = frozenset(Role(role) for role in roles)

    async def guard(caller: ApiKeyDep) -> Caller:
        if caller.role not in allowed:
            raise api_error(
                403,
                "role_not_allowed",
                f"a {caller.role} key cannot do this; allowed: {', '.join(sorted(allowed))}",
            )
        return caller

    return guard


AdminDep = Annotated[Caller, Depends(require_roles(Role.ADMIN))]


def preferred_language(accept_language: str | None) -> str:
    """The first of zh-CN / en the client prefers (by q-value); zh-CN by default."""
    if not accept_language:
        return LANGUAGES[0]
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower()))
    for negative_quality, _, tag in sorted(ranked):
        if negative_quality >= 0:
            continue
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return LANGUAGES[0]


async def _language(
    accept_language: Annotated[
        str | None, Header(description="zh-CN (default) or en.", examples=["en"])
    ] = None,
) -> str:
    return preferred_language(accept_language)


LanguageDep = Annotated[str, Depends(_language)]
