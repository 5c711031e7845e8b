"""Team views for members: their teams, and each team's audit log and security events."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import FromQuery, PathParameter

from gharts_core.errors import ErrorCode
from gharts_core.model import AuditOutcome, SecurityEventType, Severity
from gharts_core.ports.storage import Page
from gharts_core.services.team_views import TeamAuditQuery, TeamSecurityEventQuery
from gharts_http.api.controllers._params import Limit, Offset, Since, Until, time_range
from gharts_http.api.dependencies import SECURITY, PrincipalDep, ServicesDep
from gharts_http.api.errors import AUTHENTICATED_ERRORS, error_responses
from gharts_http.api.schemas.audit import AuditListResponse, SecurityEventListResponse
from gharts_http.api.schemas.teams import TeamListResponse, TeamResponse

E = ErrorCode
_AUTH = AUTHENTICATED_ERRORS
_ONE_TEAM = (*_AUTH, E.TEAM_NOT_FOUND, E.NOT_TEAM_MEMBER)
TeamName = Annotated[str, PathParameter(description="The team's name.")]


class TeamViewController(Controller):
    """``/api/v1/teams``: members read their own teams; admins read every team."""

    path = "/api/v1/teams"
    tags = ["teams"]
    security = SECURITY

    @get(
        "/",
        summary="List my teams",
        responses=error_responses(*_AUTH, E.VALIDATION_ERROR),
    )
    async def list_teams(
        self,
        *,
        principal: PrincipalDep,
        services: ServicesDep,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> TeamListResponse:
        """List the teams the caller belongs to (every team for admins), by name."""
        page = await services.team_views.list_teams(principal, Page(limit=limit, offset=offset))
        return TeamListResponse.of(page)

    @get(
        "/{team:str}",
        summary="Get one of my teams",
        responses=error_responses(*_ONE_TEAM, E.VALIDATION_ERROR),
    )
    async def get_team(
        self, team: TeamName, principal: PrincipalDep, services: ServicesDep
    ) -> TeamResponse:
        """One team the caller belongs to: its policy, runner groups and quota."""
        return TeamResponse.of(await services.team_views.get_team(principal, team))

    @get(
        "/{team:str}/audit",
        summary="My team's audit log",
        responses=error_responses(*_ONE_TEAM, E.VALIDATION_ERROR),
    )
    async def team_audit(
        self,
        *,
        team: TeamName,
        principal: PrincipalDep,
        services: ServicesDep,
        actor: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        target: FromQuery[str | None] = None,
        outcome: FromQuery[AuditOutcome | None] = None,
        since: Since = None,
        until: Until = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> AuditListResponse:
        """One page of the team's audit rows matching every filter given, newest first."""
        since_at, until_at = time_range(since, until)
        query = TeamAuditQuery(actor, action, target, outcome, since_at, until_at)
        page = await services.team_views.team_audit(
            principal, team, query, Page(limit=limit, offset=offset)
        )
        return AuditListResponse.of(page)

    @get(
        "/{team:str}/security-events",
        summary="My team's security events",
        responses=error_responses(*_ONE_TEAM, E.VALIDATION_ERROR),
    )
    async def team_security_events(
        self,
        *,
        team: TeamName,
        principal: PrincipalDep,
        services: ServicesDep,
        type: FromQuery[SecurityEventType | None] = None,  # noqa: A002 - the API's filter name
        severity: FromQuery[Severity | None] = None,
        since: Since = None,
        until: Until = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> SecurityEventListResponse:
        """One page of the team's security events matching every filter given, newest first."""
        since_at, until_at = time_range(since, until)
        query = TeamSecurityEventQuery(type, severity, since_at, until_at)
        page = await services.team_views.team_security_events(
            principal, team, query, Page(limit=limit, offset=offset)
        )
        return SecurityEventListResponse.of(page)
