"""Who is calling: the bearer token turned into a principal, once per request.

Handlers ask for ``principal``; anonymous endpoints simply do not. The principal is also kept on
the request state so that the access log and the rate limiter can name it.

Authentication and the admin check come before the request body is read: Litestar runs guards
before it decodes a handler's data, so :func:`authenticated` (every handler that takes a
``principal``) and :func:`admin_only` (the admin controllers) answer 401 and 403 to a caller
whose body is malformed too, and tell a stranger nothing about the body's schema.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler

from gharts_core.errors import InvalidToken
from gharts_core.model import Principal
from gharts_http.api.rate_limit import RateLimits
from gharts_http.bootstrap import Services

BEARER_SCHEME = "BearerToken"


def provide_services(state: State) -> Services:
    """Return the wired services of this app."""
    services: Services = state.services
    return services


def provide_rate_limits(state: State) -> RateLimits:
    """Return this app's rate limiters."""
    limits: RateLimits = state.rate_limits
    return limits


async def _authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    known = connection.state.get("principal")
    if isinstance(known, Principal):
        return known
    header = connection.headers.get("authorization")
    if not header:
        raise InvalidToken("Missing bearer token.", reason="missing")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken("The Authorization header must be 'Bearer <token>'.", reason="malformed")
    services: Services = connection.app.state.services
    principal = await services.auth.authenticate(token)
    connection.state.principal = principal
    return principal


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """Authenticate the ``Authorization: Bearer`` header; raise ``InvalidToken`` otherwise."""
    return await _authenticate(request)


async def authenticated(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard: a handler that takes a ``principal`` authenticates before its body is read."""
    if "principal" in handler.parsed_fn_signature.parameters:
        await _authenticate(connection)


async def admin_only(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard of the admin controllers: non-admins are refused before the body is read."""
    if "principal" not in handler.parsed_fn_signature.parameters:
        return  # Litestar's own OPTIONS handler of the controller's paths
    principal = await _authenticate(connection)
    if principal.is_admin:
        return
    services: Services = connection.app.state.services
    method = connection.scope.get("method", "")
    template = connection.scope.get("path_template") or connection.url.path
    await services.admin_access.require(principal, f"{method} {template}")


#: Handler parameter types: ``principal: PrincipalDep``, ``services: ServicesDep``, ...
PrincipalDep = NamedDependency[Principal]
ServicesDep = NamedDependency[Services]
RateLimitsDep = NamedDependency[RateLimits]

DEPENDENCIES = {
    "services": Provide(provide_services, sync_to_thread=False),
    "rate_limits": Provide(provide_rate_limits, sync_to_thread=False),
    "principal": Provide(provide_principal),
}
SECURITY: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]
