"""The counter screen's page: `GET /counter/{hall}/{counter}` and its static files.

A screen is opened once with `?key=TOKEN`: the key is checked, kept in an HttpOnly,
SameSite=Strict cookie (the API accepts it, scripts cannot read it) and the browser is
sent to the clean URL, so the token leaves the address bar and the history. Without a
valid key of that hall the page is a small key form and shows no customer data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final

from fastapi import APIRouter, Cookie, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from serving.api.deps import KEY_COOKIE, SessionDep
from serving.auth import find_caller
from serving.counter.access import CounterId, HallId, may_use_counter
from serving.counter.labels import DEFAULT_LANGUAGE, KEY_FORM, LABELS

SERVING_DIR: Final = Path(__file__).resolve().parent.parent
COOKIE_MAX_AGE_SECONDS: Final = 12 * 3600
"""A working day: a screen left on overnight asks for its key again."""
WHATIF_SHARES: Final = (0.0, 0.25, 0.5, 0.75, 1.0)
"""The shares of use staff can move in the tariff what-if: big buttons, not a fine slider."""
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

templates = Jinja2Templates(directory=SERVING_DIR / "templates")
router = APIRouter(include_in_schema=False)
router.mount("/static", StaticFiles(directory=SERVING_DIR / "static"), name="static")


def _key_form(
    request: Request, hall: str, counter: str, *, problem: str | None, status: int
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "counter_key.html",
        {"hall": hall, "counter": counter, "problem": problem, "text": KEY_FORM},
        status_code=status,
        headers=SECURITY_HEADERS,
    )


def _screen(request: Request, hall: str, counter: str) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    base = f"{root}/v1/halls/{hall}/counters/{counter}"
    config = {
        "hall": hall,
        "counter": counter,
        "language": DEFAULT_LANGUAGE,
        # Times on the screen are the hall's local times, whatever the browser's zone.
        "timezone": request.app.state.settings.timezone,
        "languages": list(LABELS),
        "labels": LABELS,
        "stream_url": f"{base}/stream",
        "session_url": f"{base}/sessions/{{session_id}}",
        "feedback_url": f"{root}/v1/suggestions/{{suggestion_id}}/feedback",
        "simulate_url": f"{root}/v1/tariffs/simulate",
        "shares": list(WHATIF_SHARES),
    }
    return templates.TemplateResponse(
        request,
        "counter.html",
        {
            "hall": hall,
            "counter": counter,
            "language": DEFAULT_LANGUAGE,
            "labels": LABELS[DEFAULT_LANGUAGE],
            "config": config,
        },
        headers=SECURITY_HEADERS,
    )


@router.get("/counter/{hall}/{counter}", response_class=HTMLResponse)
def counter_page(
    request: Request,
    hall: HallId,
    counter: CounterId,
    session: SessionDep,
    key: Annotated[str | None, Query(max_length=256)] = None,
    cookie: Annotated[str | None, Cookie(alias=KEY_COOKIE)] = None,
) -> Response:
    """The screen for a key of this hall (or an admin key); otherwise the key form."""
    token = key if key is not None else cookie
    caller = find_caller(session, token) if token else None
    if caller is None:
        return _key_form(request, hall, counter, problem="invalid" if token else None, status=401)
    if not may_use_counter(caller, hall):
        return _key_form(request, hall, counter, problem="wrong_hall", status=403)
    if key is None:
        return _screen(request, hall, counter)
    response = RedirectResponse(request.url.path, status_code=303, headers=SECURITY_HEADERS)
    response.set_cookie(
        KEY_COOKIE,
        key,
        max_age=COOKIE_MAX_AGE_SECONDS,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response
