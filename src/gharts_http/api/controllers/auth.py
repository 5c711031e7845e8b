"""``GET /api/v1/auth/me``: who the caller is, as gharts sees them."""

from __future__ import annotations

from litestar import Controller, get

from gharts_core.errors import ErrorCode
from gharts_http.api.dependencies import SECURITY, PrincipalDep, ServicesDep
from gharts_http.api.errors import AUTHENTICATED_ERRORS, error_responses
from gharts_http.api.schemas.runners import IdentityResponse

E = ErrorCode


class AuthController(Controller):
    """``/api/v1/auth``: any authenticated principal."""

    path = "/api/v1/auth"
    tags = ["auth"]
    security = SECURITY

    @get(
        "/me",
        summary="Who am I",
        description="The caller's kind (user or machine), admin flag, capabilities and teams.",
        responses=error_responses(*AUTHENTICATED_ERRORS),
    )
    async def me(self, principal: PrincipalDep, services: ServicesDep) -> IdentityResponse:
        """Describe the authenticated caller."""
        return IdentityResponse.of(await services.auth.describe(principal))
