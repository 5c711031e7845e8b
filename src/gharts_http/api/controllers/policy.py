"""``POST /api/v1/policy/check``: a dry run of a team's label policy."""

from __future__ import annotations

from litestar import Controller, post
from litestar.params import JSONBody

from gharts_core.errors import ErrorCode
from gharts_http.api.dependencies import SECURITY, PrincipalDep, ServicesDep
from gharts_http.api.dto import CattrsBody
from gharts_http.api.errors import AUTHENTICATED_ERRORS, error_responses
from gharts_http.api.schemas.runners import PolicyCheckBody, PolicyCheckResponse

E = ErrorCode


class PolicyController(Controller):
    """``/api/v1/policy``: any authenticated principal, for the teams it may provision for."""

    path = "/api/v1/policy"
    tags = ["policy"]
    security = SECURITY

    @post(
        "/check",
        dto=CattrsBody[PolicyCheckBody],
        return_dto=None,
        status_code=200,
        summary="Check labels against a team policy (dry run)",
        description="The team is chosen as provisioning chooses it. Refused labels are the "
        "answer (allowed: false, with violations), not an error. Nothing is provisioned.",
        responses=error_responses(
            *AUTHENTICATED_ERRORS,
            E.VALIDATION_ERROR,
            E.TEAM_REQUIRED,
            E.TEAM_NOT_FOUND,
            E.NOT_TEAM_MEMBER,
            E.TEAM_INACTIVE,
        ),
    )
    async def check(
        self, data: JSONBody[PolicyCheckBody], principal: PrincipalDep, services: ServicesDep
    ) -> PolicyCheckResponse:
        """Return the policy's decision on the labels: final labels and violations."""
        result = await services.policy.check(
            principal, data.labels, team_name=data.team_name, team_id=data.team_id
        )
        return PolicyCheckResponse.of(result)
