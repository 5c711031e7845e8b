"""Every failure the dashboard meets, as a readable page: never JSON, never a stack trace.

Core errors keep their own sentence and error code; their details (refused labels, invalid
fields) are listed under it. Login problems redirect to the login, or explain why it failed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import structlog
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException
from litestar.types import ExceptionHandlersMap

from gharts_core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    GhartsError,
    GitHubError,
    InvalidLabels,
    InvalidToken,
    LabelPolicyViolation,
    NotFound,
    StorageUnavailable,
    TooManyRequests,
    ValidationFailed,
)
from gharts_http.dashboard.config import SESSION_COOKIE
from gharts_http.dashboard.oidc import LoginFailed
from gharts_http.dashboard.pages import page, redirect
from gharts_http.dashboard.sessions import SessionEnded

log = structlog.get_logger(__name__)

_STATUSES: tuple[tuple[type[GhartsError], int], ...] = (
    (InvalidToken, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (TooManyRequests, 429),
    (BadRequest, 400),
    (GitHubError, 502),
    (StorageUnavailable, 503),
)


class LoginRequired(Exception):
    """An anonymous visitor asked for ``return_to``: send them to the login first."""

    def __init__(self, return_to: str) -> None:
        super().__init__(return_to)
        self.return_to = return_to


class CsrfRefused(Exception):
    """A state-changing form came without this session's CSRF token, or from another origin."""


def status_of(error: GhartsError) -> int:
    """Return the HTTP status of a core error (the API's table, by error family)."""
    return next((status for kind, status in _STATUSES if isinstance(error, kind)), 500)


def details_of(error: GhartsError) -> list[str]:
    """Return the lines listed under the error's sentence."""
    if isinstance(error, LabelPolicyViolation | InvalidLabels):
        return [f"{v.label}: {v.message}" for v in error.violations]
    if isinstance(error, ValidationFailed):
        return [f"{field}: {message}" for field, message in error.field_errors.items()]
    return []


def error_page(
    request: Request[Any, Any, Any],
    *,
    status: int,
    title: str,
    message: str,
    code: str | None = None,
    details: list[str] | None = None,
    cookies: list[Cookie] | None = None,
) -> Response[str]:
    """Return the error page (the header shows who is logged in when the request knows)."""
    context = {
        "title": title,
        "message": message,
        "code": code,
        "details": details or [],
        "viewer": getattr(request.state, "viewer", None),
        "active": None,
    }
    return page("error.html", context, status=status, cookies=cookies or [])


def not_found_page(request: Request[Any, Any, Any]) -> Response[str]:
    """Return the 404 page for a path no page (nor the API) serves."""
    return error_page(
        request,
        status=404,
        title="Not found",
        message=f"There is no page at {request.url.path}.",
        code="NOT_FOUND",
    )


def _gharts_error(request: Request[Any, Any, Any], error: GhartsError) -> Response[str]:
    status = status_of(error)
    titles = {403: "Not allowed", 404: "Not found", 429: "Limit reached"}
    return error_page(
        request,
        status=status,
        title=titles.get(status, "Something went wrong"),
        message=error.detail,
        code=error.code.value,
        details=details_of(error),
    )


def _login_required(_request: Request[Any, Any, Any], error: LoginRequired) -> Response[str]:
    return redirect("/login?" + urlencode({"next": error.return_to}))


def _session_ended(request: Request[Any, Any, Any], error: SessionEnded) -> Response[str]:
    return error_page(
        request,
        status=401,
        title="Your session has ended",
        message=str(error),
        cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")],
    )


def _login_failed(request: Request[Any, Any, Any], error: LoginFailed) -> Response[str]:
    return error_page(request, status=400, title="The login failed", message=str(error))


def _csrf_refused(request: Request[Any, Any, Any], _error: CsrfRefused) -> Response[str]:
    return error_page(
        request,
        status=403,
        title="Form refused",
        message="This form was not sent from a page of this dashboard. Reload the page and "
        "try again.",
        code="CSRF_REFUSED",
    )


def _http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[str]:
    status = error.status_code
    return error_page(
        request,
        status=status,
        title="Not found" if status == 404 else "Bad request",
        message=error.detail if status < 500 else "The dashboard could not answer this request.",
    )


def _unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[str]:
    log.error("dashboard.unexpected_error", path=request.url.path, exc_info=error)
    return error_page(
        request,
        status=500,
        title="Something went wrong",
        message="The dashboard met an unexpected error; it has been logged.",
        code="INTERNAL_ERROR",
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    GhartsError: _gharts_error,
    LoginRequired: _login_required,
    SessionEnded: _session_ended,
    LoginFailed: _login_failed,
    CsrfRefused: _csrf_refused,
    HTTPException: _http_error,
    Exception: _unexpected,
}
