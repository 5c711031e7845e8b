"""Admin endpoints for users: create, list, read, patch, deactivate, reactivate."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from gharts_core.errors import ErrorCode
from gharts_core.ports.storage import Page
from gharts_core.services.admin_users import UserQuery
from gharts_http.api.controllers._params import Limit, Offset, UserId
from gharts_http.api.dependencies import SECURITY, PrincipalDep, ServicesDep, admin_only
from gharts_http.api.dto import CattrsBody
from gharts_http.api.errors import ADMIN_ONLY_ERRORS, error_responses
from gharts_http.api.schemas.admin import (
    CreateUserBody,
    UpdateUserBody,
    UserListResponse,
    UserResponse,
)
from gharts_http.api.schemas.common import ReasonBody

E = ErrorCode
ADMIN_ERRORS = (*ADMIN_ONLY_ERRORS, E.VALIDATION_ERROR)
_ONE_USER = (*ADMIN_ERRORS, E.USER_NOT_FOUND)


class AdminUserController(Controller):
    """``/api/v1/admin/users``: people who may call gharts (admins only)."""

    path = "/api/v1/admin/users"
    guards = [admin_only]
    tags = ["admin"]
    security = SECURITY

    @post(
        "/",
        dto=CattrsBody[CreateUserBody],
        return_dto=None,
        status_code=201,
        summary="Create a user",
        description="Teams are named; the user is matched by email on first login when the "
        "token's email is verified.",
        responses=error_responses(*ADMIN_ERRORS, E.TEAM_NOT_FOUND, E.CONFLICT),
    )
    async def create_user(
        self, data: JSONBody[CreateUserBody], principal: PrincipalDep, services: ServicesDep
    ) -> UserResponse:
        """Create a user and its memberships; ``CONFLICT`` when the email is taken."""
        return UserResponse.of(await services.users.create_user(principal, data.command()))

    @get("/", summary="List users", responses=error_responses(*ADMIN_ERRORS, E.TEAM_NOT_FOUND))
    async def list_users(
        self,
        *,
        principal: PrincipalDep,
        services: ServicesDep,
        email: Annotated[
            str | None, QueryParameter(description="Part of the email, any case.")
        ] = None,
        is_admin: FromQuery[bool | None] = None,
        is_active: FromQuery[bool | None] = None,
        team: Annotated[str | None, QueryParameter(description="Members of this team.")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> UserListResponse:
        """One page of users matching the filters, ordered by email."""
        query = UserQuery(email=email, is_admin=is_admin, is_active=is_active, team=team)
        page = await services.users.list_users(principal, query, Page(limit=limit, offset=offset))
        return UserListResponse.of(page)

    @get("/{user_id:uuid}", summary="Get a user", responses=error_responses(*_ONE_USER))
    async def get_user(
        self, user_id: UserId, principal: PrincipalDep, services: ServicesDep
    ) -> UserResponse:
        """One user with its teams."""
        return UserResponse.of(await services.users.get_user(principal, user_id))

    @patch(
        "/{user_id:uuid}",
        dto=CattrsBody[UpdateUserBody],
        return_dto=None,
        summary="Change a user",
        description="Only the fields sent change. Demoting or deactivating the last active "
        "admin is a CONFLICT.",
        responses=error_responses(*_ONE_USER, E.CONFLICT),
    )
    async def update_user(
        self,
        *,
        user_id: UserId,
        data: JSONBody[UpdateUserBody],
        principal: PrincipalDep,
        services: ServicesDep,
    ) -> UserResponse:
        """Apply the fields sent; a patch that changes nothing records nothing."""
        return UserResponse.of(await services.users.update_user(principal, user_id, data.command()))

    @post(
        "/{user_id:uuid}/deactivate",
        dto=CattrsBody[ReasonBody],
        return_dto=None,
        status_code=200,
        summary="Deactivate a user",
        description="The user's tokens are refused from now on; the last active admin cannot "
        "be deactivated (CONFLICT).",
        responses=error_responses(*_ONE_USER, E.CONFLICT),
    )
    async def deactivate_user(
        self,
        *,
        user_id: UserId,
        data: JSONBody[ReasonBody],
        principal: PrincipalDep,
        services: ServicesDep,
    ) -> UserResponse:
        """Deactivate with a reason; deactivating an inactive user changes nothing."""
        details = await services.users.deactivate_user(principal, user_id, data.reason)
        return UserResponse.of(details)

    @post(
        "/{user_id:uuid}/reactivate",
        status_code=200,
        summary="Reactivate a user",
        responses=error_responses(*_ONE_USER),
    )
    async def reactivate_user(
        self, user_id: UserId, principal: PrincipalDep, services: ServicesDep
    ) -> UserResponse:
        """Let a deactivated user call gharts again."""
        return UserResponse.of(await services.users.reactivate_user(principal, user_id))
