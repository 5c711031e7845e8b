"""Who is calling: the bearer token turned into a principal, once per request.

Handlers ask for ``principal``; anonymous endpoints simply do not. The principal is also kept on
the request state so that the access log and the rate limiter can name it.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

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


async def provide_principal(
    request: Request[Any, Any, Any], services: NamedDependency[Services]
) -> Principal:
    """Authenticate the ``Authorization: Bearer`` header; raise ``InvalidToken`` otherwise."""
    header = request.headers.get("authorization")
    if not header:
        raise InvalidToken("Missing bearer token.", reason="missing")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken("The Authorization header must be 'Bearer <token>'.", reason="malformed")
    principal = await services.auth.authenticate(token)
    request.state.principal = principal
    return principal


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
