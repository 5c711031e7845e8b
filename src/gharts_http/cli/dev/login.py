"""The dev issuer's login page: one button per active person of the database.

``GET /dev/oidc/authorize`` checks the authorization request (code flow, PKCE ``S256``, a
redirect URI on this origin) and lists the active people by email; choosing one ``POST``s back,
and the browser is sent to the redirect URI with a single-use code. No password: this is
``gharts dev`` only, never mounted by ``gharts serve``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler

from gharts_adapters.identity import DevIssuer
from gharts_adapters.identity.dev_codes import AuthorizationError, AuthorizationRequest
from gharts_core.model import User
from gharts_core.ports.storage import MAX_PAGE_SIZE, Page, UserFilter
from gharts_http.bootstrap import Services
from gharts_http.dashboard.pages import page, redirect

REQUEST_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)


async def _active_people(services: Services) -> list[User]:
    async with services.store.unit_of_work(read_only=True) as uow:
        found = await uow.users.list(UserFilter(is_active=True), Page(limit=MAX_PAGE_SIZE))
    return list(found.items)


def _refused(error: AuthorizationError) -> Response[str]:
    context: dict[str, Any] = {
        "viewer": None,
        "active": None,
        "title": "Login request refused",
        "message": error.description,
        "code": error.error,
        "details": [],
    }
    return page("error.html", context, status=400)


def _fields(values: Any) -> dict[str, str]:
    return {name: str(values.get(name, "")) for name in REQUEST_FIELDS if values.get(name)}


def login_handlers(services: Services, issuer: DevIssuer, path: str) -> list[HTTPRouteHandler]:
    """Return the handlers of the login page at ``path`` (the issuer's ``/authorize``)."""

    @get(path, name="dev-oidc:authorize", include_in_schema=False)
    async def show(request: Request[Any, Any, Any]) -> Response[str]:
        fields = _fields(request.query_params)
        try:
            issuer.check_authorization_request(fields)
        except AuthorizationError as error:
            return _refused(error)
        context = {
            "viewer": None,
            "active": None,
            "people": await _active_people(services),
            "action": path,
            "request_fields": sorted(fields.items()),
        }
        return page("dev_login.html", context)

    @post(path, name="dev-oidc:choose", include_in_schema=False, status_code=303)
    async def choose(request: Request[Any, Any, Any]) -> Response[str]:
        form = await request.form()
        try:
            checked: AuthorizationRequest = issuer.check_authorization_request(_fields(form))
        except AuthorizationError as error:
            return _refused(error)
        email = str(form.get("email", "")).lower()
        if email not in {person.email for person in await _active_people(services)}:
            return _refused(AuthorizationError("access_denied", f"No active person {email!r}."))
        code = issuer.issue_code(checked, email)
        query = urlencode({"code": code, "state": checked.state})
        return redirect(f"{checked.redirect_uri}?{query}")

    return [show, choose]
