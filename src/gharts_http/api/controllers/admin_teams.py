"""Admin endpoints for teams: create, list, read, patch the policy, (de)activate, members."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import FromQuery, JSONBody, PathParameter

from gharts_core.errors import ErrorCode
from gharts_core.ports.storage import Page
from gharts_core.services.admin_teams import TeamQuery
from gharts_http.api.controllers._params import Limit, Offset, UserId
from gharts_http.api.controllers.admin_users import ADMIN_ERRORS
from gharts_http.api.dependencies import SECURITY, PrincipalDep, ServicesDep, admin_only
from gharts_http.api.dto import CattrsBody
from gharts_http.api.errors import error_responses
from gharts_http.api.schemas.admin import (
    AddMemberBody,
    CreateTeamBody,
    MemberListResponse,
    MembershipResponse,
    UpdateTeamBody,
)
from gharts_http.api.schemas.common import ReasonBody
from gharts_http.api.schemas.teams import TeamListResponse, TeamResponse

E = ErrorCode
_ONE_TEAM = (*ADMIN_ERRORS, E.TEAM_NOT_FOUND)
_MEMBERSHIP = (*_ONE_TEAM, E.USER_NOT_FOUND)
TeamName = Annotated[str, PathParameter(description="The team's name.")]


class AdminTeamController(Controller):
    """``/api/v1/admin/teams``: teams, their policies, quotas and members (admins only)."""

    path = "/api/v1/admin/teams"
    guards = [admin_only]
    tags = ["admin"]
    security = SECURITY

    @post(
        "/",
        dto=CattrsBody[CreateTeamBody],
        return_dto=None,
        status_code=201,
        summary="Create a team",
        description="Patterns are RE2, matched in full and case-insensitively; a bad pattern or "
        "limit is INVALID_POLICY with every problem. allowed_runner_group_ids defaults to [1] "
        "(GitHub's Default group), default_runner_group_id to the first allowed group, "
        "max_runners to null (unlimited).",
        responses=error_responses(*ADMIN_ERRORS, E.INVALID_POLICY, E.CONFLICT),
    )
    async def create_team(
        self, data: JSONBody[CreateTeamBody], principal: PrincipalDep, services: ServicesDep
    ) -> TeamResponse:
        """Create a team; ``CONFLICT`` when the name is taken."""
        return TeamResponse.of(await services.teams.create_team(principal, data.command()))

    @get("/", summary="List teams", responses=error_responses(*ADMIN_ERRORS))
    async def list_teams(
        self,
        *,
        principal: PrincipalDep,
        services: ServicesDep,
        is_active: FromQuery[bool | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> TeamListResponse:
        """One page of teams, ordered by name."""
        page = await services.teams.list_teams(
            principal, TeamQuery(is_active=is_active), Page(limit=limit, offset=offset)
        )
        return TeamListResponse.of(page)

    @get("/{team:str}", summary="Get a team", responses=error_responses(*_ONE_TEAM))
    async def get_team(
        self, team: TeamName, principal: PrincipalDep, services: ServicesDep
    ) -> TeamResponse:
        """One team with its policy, runner groups and quota."""
        return TeamResponse.of(await services.teams.get_team(principal, team))

    @patch(
        "/{team:str}",
        dto=CattrsBody[UpdateTeamBody],
        return_dto=None,
        summary="Change a team's policy, runner groups, quota or description",
        description="Only the fields sent change; the resulting policy is validated as a whole. "
        "Changes apply to new runners; the sync worker judges existing ones.",
        responses=error_responses(*_ONE_TEAM, E.INVALID_POLICY),
    )
    async def update_team(
        self,
        *,
        team: TeamName,
        data: JSONBody[UpdateTeamBody],
        principal: PrincipalDep,
        services: ServicesDep,
    ) -> TeamResponse:
        """Apply the fields sent; ``max_runners: null`` removes the limit."""
        return TeamResponse.of(await services.teams.update_team(principal, team, data.command()))

    @post(
        "/{team:str}/deactivate",
        dto=CattrsBody[ReasonBody],
        return_dto=None,
        status_code=200,
        summary="Deactivate a team",
        description="The team can no longer provision; its runners, members and clients stay.",
        responses=error_responses(*_ONE_TEAM),
    )
    async def deactivate_team(
        self,
        *,
        team: TeamName,
        data: JSONBody[ReasonBody],
        principal: PrincipalDep,
        services: ServicesDep,
    ) -> TeamResponse:
        """Deactivate with a reason; deactivating an inactive team changes nothing."""
        return TeamResponse.of(await services.teams.deactivate_team(principal, team, data.reason))

    @post(
        "/{team:str}/reactivate",
        status_code=200,
        summary="Reactivate a team",
        responses=error_responses(*_ONE_TEAM),
    )
    async def reactivate_team(
        self, team: TeamName, principal: PrincipalDep, services: ServicesDep
    ) -> TeamResponse:
        """Let a deactivated team provision again."""
        return TeamResponse.of(await services.teams.reactivate_team(principal, team))

    @get(
        "/{team:str}/members",
        summary="List a team's members",
        responses=error_responses(*_ONE_TEAM),
    )
    async def list_members(
        self, team: TeamName, principal: PrincipalDep, services: ServicesDep
    ) -> MemberListResponse:
        """List the team's members, ordered by email."""
        return MemberListResponse.of(await services.teams.list_members(principal, team))

    @post(
        "/{team:str}/members",
        dto=CattrsBody[AddMemberBody],
        return_dto=None,
        status_code=201,
        summary="Add a member",
        description="Idempotent: adding a member again answers 201 with changed false.",
        responses=error_responses(*_MEMBERSHIP),
    )
    async def add_member(
        self,
        *,
        team: TeamName,
        data: JSONBody[AddMemberBody],
        principal: PrincipalDep,
        services: ServicesDep,
    ) -> MembershipResponse:
        """Add the user to the team."""
        return MembershipResponse.of(await services.teams.add_member(principal, team, data.user_id))

    @delete(
        "/{team:str}/members/{user_id:uuid}",
        status_code=200,
        summary="Remove a member",
        description="Idempotent: removing a non-member answers 200 with changed false.",
        responses=error_responses(*_MEMBERSHIP),
    )
    async def remove_member(
        self, team: TeamName, user_id: UserId, principal: PrincipalDep, services: ServicesDep
    ) -> MembershipResponse:
        """Remove the user from the team."""
        change = await services.teams.remove_member(principal, team, user_id)
        return MembershipResponse.of(change)
