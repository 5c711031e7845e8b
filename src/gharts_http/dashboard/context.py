"""What every dashboard handler is given: the dashboard's parts and the person looking.

``viewer`` reads the session cookie and returns the :class:`Viewer`; an anonymous visitor is sent
to the login and then back to the page asked for. ``check_form`` refuses a state-changing form
that lacks the session's CSRF token or comes from another origin.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs
from litestar import Request
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide

from gharts_http.bootstrap import Services
from gharts_http.dashboard.config import LOGIN_COOKIE, SESSION_COOKIE, DashboardConfig
from gharts_http.dashboard.errors import CsrfRefused, LoginRequired
from gharts_http.dashboard.live import RunnerChanges
from gharts_http.dashboard.oidc import OidcLogin
from gharts_http.dashboard.redirects import safe_return_path
from gharts_http.dashboard.sessions import Sessions, UnknownSession, Viewer
from gharts_http.dashboard.signing import Signer


@attrs.frozen(kw_only=True)
class Dashboard:
    """The dashboard's wired parts, one per app."""

    services: Services
    config: DashboardConfig
    signer: Signer
    sessions: Sessions
    login: OidcLogin
    changes: RunnerChanges

    def session_cookie(self, token: str) -> Cookie:
        """Return the session cookie: HttpOnly, SameSite=Lax, Secure unless on loopback http."""
        return Cookie(
            key=SESSION_COOKIE,
            value=token,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.config.secure_cookies,
            max_age=self.config.session_ttl_seconds,
        )

    def login_cookie(self, value: str, *, max_age: int = 600) -> Cookie:
        """Return the short-lived cookie of a login in progress (signed, for the callback)."""
        return Cookie(
            key=LOGIN_COOKIE,
            value=value,
            path="/auth",
            httponly=True,
            samesite="lax",
            secure=self.config.secure_cookies,
            max_age=max_age,
        )

    def check_form(
        self, request: Request[Any, Any, Any], viewer: Viewer, form: Mapping[str, Any]
    ) -> None:
        """Raise ``CsrfRefused`` unless the form carries the CSRF token and comes from here."""
        origin = request.headers.get("origin")
        if origin is not None and _origin(origin) != _origin(self.config.public_url):
            raise CsrfRefused
        sent = form.get("csrf_token")
        if not isinstance(sent, str) or not hmac.compare_digest(sent, viewer.csrf_token):
            raise CsrfRefused


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


async def provide_viewer(
    request: Request[Any, Any, Any], dashboard: NamedDependency[Dashboard]
) -> Viewer:
    """Return the logged-in person; raise ``LoginRequired`` or ``SessionEnded`` otherwise.

    ``SessionEnded`` (a 401 page saying why) is for a session that existed and ended: expired,
    or its person deactivated. A cookie naming no session is treated as no cookie.
    """
    token = request.cookies.get(SESSION_COOKIE)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not token:
        raise LoginRequired(safe_return_path(path))
    try:
        viewer = await dashboard.sessions.viewer(token)
    except UnknownSession:
        # A stale or planted cookie is no login at all: log in afresh (a new id is issued).
        raise LoginRequired(safe_return_path(path)) from None
    request.state.viewer = viewer
    request.state.principal = viewer.principal  # named in the access log, as the API's callers are
    return viewer


DashboardDep = NamedDependency[Dashboard]
ViewerDep = NamedDependency[Viewer]


def dependencies(dashboard: Dashboard) -> dict[str, Provide]:
    """Return the dependencies of the dashboard's handlers: ``dashboard`` and ``viewer``."""

    def provide_dashboard() -> Dashboard:
        return dashboard

    return {
        "dashboard": Provide(provide_dashboard, sync_to_thread=False),
        "viewer": Provide(provide_viewer),
    }
