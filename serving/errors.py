"""The API's one error shape, and the handlers that give every failure that shape.

`{"error": {"status": 404, "code": "customer_not_found", "message": "...", "details": [...]}}`
for raised `api_error`s, Starlette's own HTTP errors (unknown route, wrong method),
validation errors (422, details = pydantic's errors), domain errors, a database that
does not answer (503 with Retry-After: a dropped connection, a pool exhausted) and anything
unexpected (500, nothing internal leaked).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from powerhall.errors import ContractError, InvalidRequestError, NotFoundError, PowerhallError

logger = logging.getLogger(__name__)

DEFAULT_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "not_ready",
}


class ErrorBody(BaseModel):
    status: int = Field(examples=[404])
    code: str = Field(
        description="Stable machine-readable reason.", examples=["customer_not_found"]
    )
    message: str = Field(examples=["no customer C000123"])
    details: list[Any] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """What every non-2xx answer of the API looks like."""

    error: ErrorBody


class ApiError(StarletteHTTPException):
    """An HTTP error with a stable code; routes raise it through `api_error`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Sequence[Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status, detail=message, headers=dict(headers or {}))
        self.code = code
        self.details = list(details or [])


def api_error(
    status: int,
    code: str,
    message: str,
    details: Sequence[Any] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> ApiError:
    """The exception a route raises: `raise api_error(404, "customer_not_found", "...")`."""
    return ApiError(status, code, message, details, headers)


def error_response(
    status: int,
    code: str,
    message: str,
    details: Sequence[Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(
        error=ErrorBody(status=status, code=code, message=message, details=list(details or []))
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, ApiError):
        return error_response(exc.status_code, exc.code, exc.detail, exc.details, exc.headers)
    code = DEFAULT_CODES.get(exc.status_code, HTTPStatus(exc.status_code).phrase.lower())
    return error_response(
        exc.status_code, code.replace(" ", "_"), str(exc.detail), None, exc.headers
    )


def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    """Pydantic's errors without the rejected input: it may hold personal data."""
    assert isinstance(exc, RequestValidationError)
    details = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in exc.errors()
    ]
    return error_response(422, "validation_error", "the request is not valid", details)


def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, NotFoundError):
        return error_response(404, "not_found", str(exc))
    if isinstance(exc, ContractError | InvalidRequestError):
        return error_response(422, "validation_error", str(exc))
    return error_response(400, "bad_request", str(exc))


DATABASE_RETRY_AFTER_SECONDS = 1
"""What a 503 for a database that did not answer asks the client to wait: the pool
replaces a dropped connection on the next checkout (pre-ping), so a retry soon succeeds."""


def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A connection lost mid-request (server restarted, backend terminated, network cut),
    or no connection free in time, is the database being unavailable, not a bug: 503 with
    Retry-After, so that clients retry (feedback with its Idempotency-Key is stored once).
    Any other database error goes on to the unexpected-error handler (500)."""
    assert isinstance(exc, DBAPIError | PoolTimeoutError)
    if isinstance(exc, DBAPIError) and not (
        isinstance(exc, OperationalError) or exc.connection_invalidated
    ):
        raise exc
    # The driver's own message: SQLAlchemy's adds the statement and its parameters.
    cause = getattr(exc, "orig", None) or exc
    logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, cause)
    return error_response(
        503,
        "database_unavailable",
        "the database did not answer; retry shortly",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "the service failed to answer; it is logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(PowerhallError, _domain_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeoutError, _database_error)
    app.add_exception_handler(Exception, _unexpected)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": HTTPStatus(status).phrase}
    for status in (401, 403, 404, 409, 413, 422, 429)
}
"""`responses=` for routers, so that OpenAPI documents the error shape."""
