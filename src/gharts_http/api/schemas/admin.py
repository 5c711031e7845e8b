"""Bodies of the admin endpoints for users, teams (with members) and machine clients.

``PATCH`` bodies type each field ``T | Unset`` with the default ``UNSET``: a field the client left
out keeps its value, one it sent (``null`` included, where allowed) replaces it. The edge converter
structures them (:mod:`gharts_http.api.converters`) and the body DTO documents them as the client
sends them: every field optional, typed ``T``, described by its ``metadata``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import attrs

from gharts_core.model import UNSET, Unset, User
from gharts_core.ports.storage import PageResult
from gharts_core.services.admin_clients import ClientDetails, CreateClient, UpdateClient
from gharts_core.services.admin_teams import (
    DEFAULT_RUNNER_GROUP_ID,
    CreateTeam,
    MembershipChange,
    UpdateTeam,
)
from gharts_core.services.admin_users import CreateUser, UpdateUser, UserDetails
from gharts_http.api.converters import to_command
from gharts_http.api.schemas.common import deactivation_fields


def _doc(description: str) -> dict[str, str]:
    return {"description": description}


def _default_groups() -> list[int]:
    return [DEFAULT_RUNNER_GROUP_ID]


# Users


@attrs.frozen(kw_only=True)
class CreateUserBody:
    """``POST /api/v1/admin/users``: a person, optionally in some teams (by name)."""

    email: str
    display_name: str
    teams: list[str] = attrs.Factory(list)
    is_admin: bool = False
    can_use_jit: bool = True
    can_use_registration_token: bool = False

    def command(self) -> CreateUser:
        """Return the service command with the same fields."""
        return to_command(self, CreateUser)


@attrs.frozen(kw_only=True)
class UpdateUserBody:
    """``PATCH /api/v1/admin/users/{user_id}``: only the fields sent change."""

    display_name: str | Unset = attrs.field(default=UNSET, metadata=_doc("A new display name."))
    is_admin: bool | Unset = attrs.field(
        default=UNSET, metadata=_doc("Grant or revoke admin rights; the last active admin stays.")
    )
    is_active: bool | Unset = attrs.field(
        default=UNSET, metadata=_doc("false deactivates the user (with reason), true reactivates.")
    )
    can_use_jit: bool | Unset = attrs.field(
        default=UNSET, metadata=_doc("May provision just-in-time runners.")
    )
    can_use_registration_token: bool | Unset = attrs.field(
        default=UNSET, metadata=_doc("May use the legacy registration-token flow.")
    )
    reason: str | None = attrs.field(
        default=None, metadata=_doc("Recorded when is_active turns false.")
    )

    def command(self) -> UpdateUser:
        """Return the service command with the same fields."""
        return to_command(self, UpdateUser)


@attrs.frozen(kw_only=True)
class UserResponse:
    """A user, its capabilities, its teams by name and its bound identity, if any."""

    id: uuid.UUID
    email: str
    display_name: str
    is_admin: bool
    is_active: bool
    can_use_jit: bool
    can_use_registration_token: bool
    teams: list[str]
    oidc_issuer: str | None
    oidc_subject: str | None
    deactivated_at: datetime | None
    deactivated_by: str | None
    deactivation_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, details: UserDetails) -> UserResponse:
        """Build the response from a user and its team names."""
        user = details.user
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            is_admin=user.is_admin,
            is_active=user.is_active,
            can_use_jit=user.capabilities.can_use_jit,
            can_use_registration_token=user.capabilities.can_use_registration_token,
            teams=list(details.teams),
            oidc_issuer=user.oidc_issuer,
            oidc_subject=user.oidc_subject,
            **deactivation_fields(user.deactivation),
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


@attrs.frozen(kw_only=True)
class UserListResponse:
    """One page of users, by email, and how many match the filters in all."""

    users: list[UserResponse]
    total: int

    @classmethod
    def of(cls, page: PageResult[UserDetails]) -> UserListResponse:
        """Build the response from one page of the service's users."""
        return cls(users=[UserResponse.of(details) for details in page.items], total=page.total)


# Teams (responses: gharts_http.api.schemas.teams.TeamResponse)


@attrs.frozen(kw_only=True)
class CreateTeamBody:
    """``POST /api/v1/admin/teams``: a team with its label policy, runner groups and quota."""

    name: str
    description: str = ""
    required_labels: list[str] = attrs.Factory(list)
    optional_label_patterns: list[str] = attrs.Factory(list)
    allowed_runner_group_ids: list[int] = attrs.Factory(_default_groups)
    default_runner_group_id: int | None = None
    max_runners: int | None = None

    def command(self) -> CreateTeam:
        """Return the service command with the same fields."""
        return to_command(self, CreateTeam)


@attrs.frozen(kw_only=True)
class UpdateTeamBody:
    """``PATCH /api/v1/admin/teams/{team}``: only the fields sent change; the name cannot."""

    description: str | Unset = attrs.field(default=UNSET, metadata=_doc("A new description."))
    required_labels: list[str] | Unset = attrs.field(
        default=UNSET, metadata=_doc("Replaces the labels added to every runner of the team.")
    )
    optional_label_patterns: list[str] | Unset = attrs.field(
        default=UNSET, metadata=_doc("Replaces the RE2 patterns other labels must fully match.")
    )
    allowed_runner_group_ids: list[int] | Unset = attrs.field(
        default=UNSET,
        metadata=_doc(
            "Replaces the runner groups the team may use; when the current default is no longer "
            "among them, send default_runner_group_id too."
        ),
    )
    default_runner_group_id: int | Unset | None = attrs.field(
        default=UNSET, metadata=_doc("The group used when a request names none; null: the first.")
    )
    max_runners: int | Unset | None = attrs.field(
        default=UNSET, metadata=_doc("The concurrent-runner quota; null removes the limit.")
    )

    def command(self) -> UpdateTeam:
        """Return the service command with the same fields."""
        return to_command(self, UpdateTeam)


@attrs.frozen(kw_only=True)
class AddMemberBody:
    """``POST /api/v1/admin/teams/{team}/members``."""

    user_id: uuid.UUID


@attrs.frozen(kw_only=True)
class MemberResponse:
    """A member of a team."""

    id: uuid.UUID
    email: str
    display_name: str
    is_admin: bool
    is_active: bool

    @classmethod
    def of(cls, user: User) -> MemberResponse:
        """Build the response from a user."""
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            is_admin=user.is_admin,
            is_active=user.is_active,
        )


@attrs.frozen(kw_only=True)
class MemberListResponse:
    """A team's members, by email."""

    members: list[MemberResponse]
    total: int

    @classmethod
    def of(cls, members: Sequence[User]) -> MemberListResponse:
        """Build the response from all of a team's members."""
        return cls(members=[MemberResponse.of(user) for user in members], total=len(members))


@attrs.frozen(kw_only=True)
class MembershipResponse:
    """A membership after adding or removing it; ``changed`` is false when it was a no-op."""

    team: str
    member: MemberResponse
    changed: bool

    @classmethod
    def of(cls, change: MembershipChange) -> MembershipResponse:
        """Build the response from the service's outcome."""
        return cls(
            team=change.team.name, member=MemberResponse.of(change.user), changed=change.changed
        )


# Machine clients


@attrs.frozen(kw_only=True)
class CreateClientBody:
    """``POST /api/v1/admin/clients``: an (issuer, subject) identity bound to one team (by name)."""

    issuer: str
    subject: str
    team: str
    description: str = ""
    can_use_jit: bool = True
    can_use_registration_token: bool = False

    def command(self) -> CreateClient:
        """Return the service command with the same fields."""
        return to_command(self, CreateClient)


@attrs.frozen(kw_only=True)
class UpdateClientBody:
    """``PATCH /api/v1/admin/clients/{client_id}``: only the fields sent change."""

    description: str | Unset = attrs.field(default=UNSET, metadata=_doc("A new description."))
    can_use_jit: bool | Unset = attrs.field(
        default=UNSET, metadata=_doc("May provision just-in-time runners.")
    )
    can_use_registration_token: bool | Unset = attrs.field(
        default=UNSET, metadata=_doc("May use the legacy registration-token flow.")
    )
    team: str | Unset = attrs.field(
        default=UNSET, metadata=_doc("Move the client to this team (by name).")
    )

    def command(self) -> UpdateClient:
        """Return the service command with the same fields."""
        return to_command(self, UpdateClient)


@attrs.frozen(kw_only=True)
class DisableClientBody:
    """``POST /api/v1/admin/clients/{client_id}/disable``: the body itself may be left out."""

    reason: str | None = None


@attrs.frozen(kw_only=True)
class ClientResponse:
    """A machine client with its team (by name and id)."""

    id: uuid.UUID
    issuer: str
    subject: str
    team: str
    team_id: uuid.UUID
    description: str
    can_use_jit: bool
    can_use_registration_token: bool
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, details: ClientDetails) -> ClientResponse:
        """Build the response from a client and its team's name."""
        client = details.client
        return cls(
            id=client.id,
            issuer=client.issuer,
            subject=client.subject,
            team=details.team_name,
            team_id=client.team_id,
            description=client.description,
            can_use_jit=client.capabilities.can_use_jit,
            can_use_registration_token=client.capabilities.can_use_registration_token,
            is_active=client.is_active,
            created_at=client.created_at,
            updated_at=client.updated_at,
        )


@attrs.frozen(kw_only=True)
class ClientListResponse:
    """One page of clients, oldest first, and how many match the filters in all."""

    clients: list[ClientResponse]
    total: int

    @classmethod
    def of(cls, page: PageResult[ClientDetails]) -> ClientListResponse:
        """Build the response from one page of the service's clients."""
        return cls(clients=[ClientResponse.of(details) for details in page.items], total=page.total)
