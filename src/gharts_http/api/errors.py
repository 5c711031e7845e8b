"""The one exception → HTTP table: every failure leaves as ``{"detail", "error_code", ...}``.

Core errors carry their :class:`~gharts_core.errors.ErrorCode`; :data:`STATUS` maps each code to
its status. Litestar's own failures (unknown route, wrong method, oversized or malformed body,
validation) are translated here too, so a client never sees a second error shape. Anything else
is ``INTERNAL_ERROR``: logged with the request id, never echoed with a trace.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import attrs
import structlog
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import KwargDefinition
from litestar.types import ExceptionHandlersMap

from gharts_core.errors import (
    ErrorCode,
    GhartsError,
    InternalError,
    InvalidToken,
    ValidationFailed,
)
from gharts_http.api.request_context import ensure_request_id

_log = structlog.get_logger("gharts.http")


class TransportErrorCode(enum.StrEnum):
    """The codes of requests that never reached an endpoint; every other code is the core's."""

    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"


class UnsupportedMediaType(HTTPException):
    """A request body that is not ``application/json`` where JSON is expected."""

    status_code = 415


#: Every ``error_code`` the API answers with: the core's codes, then the transport ones.
API_ERROR_CODES: tuple[str, ...] = (*ErrorCode, *TransportErrorCode)

STATUS: Mapping[str, int] = {
    ErrorCode.INVALID_TOKEN: 401,
    ErrorCode.USER_NOT_AUTHORIZED: 403,
    ErrorCode.ADMIN_REQUIRED: 403,
    ErrorCode.NOT_TEAM_MEMBER: 403,
    ErrorCode.TEAM_INACTIVE: 403,
    ErrorCode.LABEL_POLICY_VIOLATION: 403,
    ErrorCode.RUNNER_GROUP_NOT_ALLOWED: 403,
    ErrorCode.QUOTA_EXCEEDED: 429,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.INVALID_LABELS: 400,
    ErrorCode.INVALID_POLICY: 400,
    ErrorCode.VALIDATION_ERROR: 400,
    ErrorCode.TEAM_REQUIRED: 400,
    ErrorCode.TEAM_NOT_FOUND: 404,
    ErrorCode.RUNNER_NOT_FOUND: 404,
    ErrorCode.USER_NOT_FOUND: 404,
    ErrorCode.CLIENT_NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.GITHUB_RATE_LIMITED: 503,
    ErrorCode.GITHUB_UNAVAILABLE: 502,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.INTERNAL_ERROR: 500,
    TransportErrorCode.NOT_FOUND: 404,
    TransportErrorCode.METHOD_NOT_ALLOWED: 405,
    TransportErrorCode.PAYLOAD_TOO_LARGE: 413,
    TransportErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
}


@attrs.frozen(kw_only=True)
class PolicyViolationBody:
    """One refused label and why."""

    label: str
    reason: str
    message: str


@attrs.frozen(kw_only=True)
class ErrorBody:
    """The body of every error response."""

    detail: str
    # One closed enum in the OpenAPI document, without spelling the core's codes a second time.
    error_code: Annotated[
        str, KwargDefinition(title="ErrorCode", schema_extra={"enum": list(API_ERROR_CODES)})
    ]
    violations: list[PolicyViolationBody] | None = None
    retry_after: int | None = None
    field_errors: dict[str, str] | None = None
    problems: list[dict[str, str | None]] | None = None


#: What any authenticated endpoint may answer before it does its own work.
AUTHENTICATED_ERRORS: tuple[str, ...] = (
    ErrorCode.INVALID_TOKEN,
    ErrorCode.USER_NOT_AUTHORIZED,
    ErrorCode.SERVICE_UNAVAILABLE,
)
#: What any admin endpoint may answer before it does its own work.
ADMIN_ONLY_ERRORS: tuple[str, ...] = (*AUTHENTICATED_ERRORS, ErrorCode.ADMIN_REQUIRED)


def error_responses(*codes: str) -> dict[int, ResponseSpec]:
    """OpenAPI ``responses`` for the given codes (several codes may share a status)."""
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(STATUS[code], []).append(code)
    return {
        status: ResponseSpec(
            data_container=ErrorBody,
            description="Error; error_code is one of: " + ", ".join(sorted(names)),
            generate_examples=False,
        )
        for status, names in sorted(by_status.items())
    }


#: Route ``opt`` key: set it on endpoints that do not take bearer tokens (no challenge header).
NO_BEARER_CHALLENGE = "no_bearer_challenge"


def error_response(
    code: str,
    detail: str,
    extras: Mapping[str, object] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[dict[str, Any]]:
    """Build the error response for ``code``; ``Retry-After`` follows ``extras["retry_after"]``."""
    body: dict[str, Any] = {"detail": detail, "error_code": str(code), **(extras or {})}
    all_headers = dict(headers or {})
    retry_after = body.get("retry_after")
    if isinstance(retry_after, int | float):
        body["retry_after"] = max(1, math.ceil(retry_after))
        all_headers["Retry-After"] = str(body["retry_after"])
    if code == ErrorCode.INVALID_TOKEN:
        all_headers.setdefault("WWW-Authenticate", 'Bearer error="invalid_token"')
    return Response(body, status_code=STATUS[code], headers=all_headers)


def _gharts_error(request: Request[Any, Any, Any], error: GhartsError) -> Response[Any]:
    if isinstance(error, InternalError):
        return _internal(request, error)
    response = error_response(error.code, error.detail, error.extras())
    if isinstance(error, InvalidToken):
        if not _bearer_endpoint(request):
            del response.headers["WWW-Authenticate"]
        elif not request.headers.get("authorization"):
            response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _bearer_endpoint(request: Request[Any, Any, Any]) -> bool:
    """Whether the endpoint authenticates with a bearer token (the webhook uses an HMAC)."""
    opt = getattr(request.scope.get("route_handler"), "opt", None) or {}
    return opt.get(NO_BEARER_CHALLENGE) is not True


def _validation_field_errors(error: ValidationException) -> dict[str, str]:
    errors: dict[str, str] = {}
    for item in error.extra if isinstance(error.extra, list) else []:
        if isinstance(item, Mapping):
            key = str(item.get("key") or item.get("source") or "body")
            message = str(item.get("message", "is invalid"))
            if key == "data" and item.get("source") == "body":  # no body at all
                key, message = "body", "is required: send a JSON object"
            errors.setdefault(key, message)
    return errors or {"body": error.detail or "is invalid"}


def _transport_error(
    error: NotFoundException | RequestEntityTooLarge | UnsupportedMediaType,
) -> Response[Any]:
    if isinstance(error, NotFoundException):
        return error_response(TransportErrorCode.NOT_FOUND, "No such endpoint.")
    if isinstance(error, RequestEntityTooLarge):
        return error_response(
            TransportErrorCode.PAYLOAD_TOO_LARGE, "The request body is too large."
        )
    return error_response(TransportErrorCode.UNSUPPORTED_MEDIA_TYPE, str(error.detail))


def _http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    if isinstance(error, ValidationException):
        return _gharts_error(request, ValidationFailed(_validation_field_errors(error)))
    if isinstance(error, NotFoundException | RequestEntityTooLarge | UnsupportedMediaType):
        return _transport_error(error)
    if isinstance(error, MethodNotAllowedException):
        # Litestar's router names the header in lower case.
        headers = {name.lower(): value for name, value in (error.headers or {}).items()}
        allow = headers.get("allow", "")
        return error_response(
            TransportErrorCode.METHOD_NOT_ALLOWED,
            "This endpoint does not answer that method.",
            headers={"Allow": allow} if allow else None,
        )
    if error.status_code == 400:
        return _gharts_error(request, ValidationFailed({"body": str(error.detail)}))
    return _internal(request, error)


PageRenderer = Callable[[Request[Any, Any, Any]], Response[Any]]
"""Renders an HTML page for a request: the dashboard's 404 page, handed in by who builds the app."""


def not_found_handler(not_found_page: PageRenderer) -> ExceptionHandlersMap:
    """Answer an unknown path a browser asks for outside ``/api/`` with ``not_found_page``.

    Everything else (API paths, clients that do not ask for HTML) keeps the JSON ``NOT_FOUND``.
    """

    def not_found(request: Request[Any, Any, Any], error: NotFoundException) -> Response[Any]:
        accepts_html = "text/html" in request.headers.get("accept", "")
        if accepts_html and not request.url.path.startswith("/api/"):
            return not_found_page(request)
        return _http_error(request, error)

    return {NotFoundException: not_found}


def _internal(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    request_id = ensure_request_id(request.scope)
    _log.error(
        "unhandled_error",
        request_id=request_id,
        path=request.url.path,
        error_type=type(error).__name__,
        exc_info=error,
    )
    return error_response(ErrorCode.INTERNAL_ERROR, "Internal server error.")


def _unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    return _internal(request, error)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    GhartsError: _gharts_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}
