"""Runner endpoints: provision (JIT and registration token), list, get, refresh, delete."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.params import FromQuery, JSONBody, PathParameter

from gharts_core.errors import ErrorCode
from gharts_core.model import RunnerStatus
from gharts_core.ports.storage import Page
from gharts_core.services.runners import RunnerQuery
from gharts_http.api.controllers._params import Limit, Offset
from gharts_http.api.dependencies import SECURITY, PrincipalDep, RateLimitsDep, ServicesDep
from gharts_http.api.dto import CattrsBody
from gharts_http.api.errors import AUTHENTICATED_ERRORS, error_responses
from gharts_http.api.schemas.runners import (
    JitRunnerResponse,
    ProvisionJitBody,
    ProvisionTokenBody,
    RefreshedRunnerResponse,
    RegistrationTokenResponse,
    RunnerListResponse,
    RunnerResponse,
)

E = ErrorCode
_AUTH = AUTHENTICATED_ERRORS
_PROVISION = (
    *_AUTH,
    E.RATE_LIMITED,
    E.VALIDATION_ERROR,
    E.INVALID_LABELS,
    E.TEAM_REQUIRED,
    E.TEAM_NOT_FOUND,
    E.NOT_TEAM_MEMBER,
    E.TEAM_INACTIVE,
    E.LABEL_POLICY_VIOLATION,
    E.RUNNER_GROUP_NOT_ALLOWED,
    E.QUOTA_EXCEEDED,
    E.CONFLICT,
    E.GITHUB_RATE_LIMITED,
    E.GITHUB_UNAVAILABLE,
)
_ONE_RUNNER = (*_AUTH, E.VALIDATION_ERROR, E.RUNNER_NOT_FOUND)
_GITHUB = (E.GITHUB_RATE_LIMITED, E.GITHUB_UNAVAILABLE)
RunnerId = Annotated[uuid.UUID, PathParameter(description="The runner's id (runner_id).")]


class RunnerController(Controller):
    """``/api/v1/runners``: any authenticated principal, within its visibility."""

    path = "/api/v1/runners"
    tags = ["runners"]
    security = SECURITY

    @post(
        "/jit",
        dto=CattrsBody[ProvisionJitBody],
        return_dto=None,
        status_code=201,
        summary="Provision a just-in-time runner",
        description="The call Actions Runner Controller makes. The JIT configuration is "
        "returned once and never stored.",
        responses=error_responses(*_PROVISION),
    )
    async def provision_jit(
        self,
        data: JSONBody[ProvisionJitBody],
        principal: PrincipalDep,
        services: ServicesDep,
        rate_limits: RateLimitsDep,
    ) -> JitRunnerResponse:
        """Check the policy and quota, ask GitHub for a JIT configuration, return it once."""
        rate_limits.provisioning.acquire(principal)
        result = await services.provisioning.provision_jit(principal, data.command())
        return JitRunnerResponse.of(result)

    @post(
        "/provision",
        dto=CattrsBody[ProvisionTokenBody],
        return_dto=None,
        status_code=201,
        summary="Issue a registration token (legacy config.sh flow)",
        responses=error_responses(*_PROVISION),
    )
    async def provision_token(
        self,
        data: JSONBody[ProvisionTokenBody],
        principal: PrincipalDep,
        services: ServicesDep,
        rate_limits: RateLimitsDep,
    ) -> RegistrationTokenResponse:
        """Needs ``can_use_registration_token``; the sync worker enforces labels afterwards."""
        rate_limits.provisioning.acquire(principal)
        result = await services.provisioning.provision_registration_token(principal, data.command())
        return RegistrationTokenResponse.of(result)

    @get(
        "/",
        summary="List runners",
        responses=error_responses(*_AUTH, E.VALIDATION_ERROR),
    )
    async def list_runners(
        self,
        *,
        principal: PrincipalDep,
        services: ServicesDep,
        status: FromQuery[RunnerStatus | None] = None,
        team_name: FromQuery[str | None] = None,
        label: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> RunnerListResponse:
        """List the runners the caller may see, newest first; filtered and paged in the database."""
        query = RunnerQuery(status=status, team_name=team_name, label=label)
        page = await services.runners.list(principal, query, Page(limit=limit, offset=offset))
        return RunnerListResponse.of(page)

    @get("/{runner_id:uuid}", summary="Get one runner", responses=error_responses(*_ONE_RUNNER))
    async def get_runner(
        self, runner_id: RunnerId, principal: PrincipalDep, services: ServicesDep
    ) -> RunnerResponse:
        """One runner the caller may see; ``RUNNER_NOT_FOUND`` otherwise."""
        return RunnerResponse.of(await services.runners.get(principal, runner_id))

    @post(
        "/{runner_id:uuid}/refresh",
        status_code=200,
        summary="Re-read a runner from GitHub now",
        responses=error_responses(*_ONE_RUNNER, *_GITHUB),
    )
    async def refresh_runner(
        self, runner_id: RunnerId, principal: PrincipalDep, services: ServicesDep
    ) -> RefreshedRunnerResponse:
        """Update the record from what GitHub reports for this runner."""
        return RefreshedRunnerResponse.of(await services.runners.refresh(principal, runner_id))

    @delete(
        "/{runner_id:uuid}",
        status_code=200,
        summary="Deprovision a runner",
        description="Removes the runner from GitHub, then marks it deleted. A runner GitHub no "
        "longer has counts as removed; deleting a deleted runner returns it unchanged.",
        responses=error_responses(*_ONE_RUNNER, *_GITHUB),
    )
    async def delete_runner(
        self, runner_id: RunnerId, principal: PrincipalDep, services: ServicesDep
    ) -> RunnerResponse:
        """Remove the runner from GitHub and mark it deleted."""
        return RunnerResponse.of(await services.runners.deprovision(principal, runner_id))
