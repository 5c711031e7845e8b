"""Login, the identity provider's callback, and logout."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie

from gharts_http.dashboard.config import CALLBACK_PATH, LOGIN_COOKIE, SESSION_COOKIE
from gharts_http.dashboard.context import DashboardDep
from gharts_http.dashboard.oidc import LoginFailed, PendingLogin
from gharts_http.dashboard.pages import page, redirect
from gharts_http.dashboard.redirects import safe_return_path

_FORGET_LOGIN = Cookie(key=LOGIN_COOKIE, value="", path="/auth", max_age=0)
_FORGET_SESSION = Cookie(key=SESSION_COOKIE, value="", path="/", max_age=0)


class AuthPages(Controller):
    """Where people log in and out."""

    include_in_schema = False

    @get("/login")
    async def login(
        self, request: Request[Any, Any, Any], dashboard: DashboardDep
    ) -> Response[str]:
        """Start the authorization-code flow: redirect to the identity provider."""
        return_to = safe_return_path(request.query_params.get("next"))
        url, pending = await dashboard.login.start(return_to)
        cookie = dashboard.login_cookie(dashboard.signer.sign(pending.as_dict()))
        return redirect(url, cookies=[cookie])

    @get(CALLBACK_PATH)
    async def callback(
        self, request: Request[Any, Any, Any], dashboard: DashboardDep
    ) -> Response[str]:
        """Finish the login: check it, open a new session, go back to the page asked for."""
        query = request.query_params
        if error := query.get("error"):
            described = query.get("error_description") or error
            raise LoginFailed(f"The identity provider ended the login: {described}.")
        signed = request.cookies.get(LOGIN_COOKIE)
        pending = PendingLogin.of(dashboard.signer.unsign(signed) or {}) if signed else None
        code, state = query.get("code"), query.get("state")
        if pending is None or not code or not state:
            raise LoginFailed(
                "No login was started from this browser, or it took too long. Log in again."
            )
        verified = await dashboard.login.finish(pending, code=code, state=state)
        principal = await dashboard.services.auth.sign_in(verified)
        token = await dashboard.sessions.open(
            principal, replacing=request.cookies.get(SESSION_COOKIE)
        )
        cookies = [dashboard.session_cookie(token), _FORGET_LOGIN]
        return redirect(pending.return_to, cookies=cookies)

    @post("/logout", status_code=303)
    async def logout(
        self, request: Request[Any, Any, Any], dashboard: DashboardDep
    ) -> Response[str]:
        """End the session (its row is deleted) and forget the cookie."""
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            viewer = await dashboard.sessions.viewer(token)
            dashboard.check_form(request, viewer, await request.form())
            await dashboard.sessions.close(token)
        return redirect("/logged-out", cookies=[_FORGET_SESSION])

    @get("/logged-out", sync_to_thread=False)
    def logged_out(self) -> Response[str]:
        """Say the session is over and offer to log in again."""
        return page("logged_out.html", {"viewer": None, "active": None})
