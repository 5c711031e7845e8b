"""Pieces the admin and team-view use cases share: the patch marker, lookups, checks, snapshots."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final, TypeVar

from gharts_core import authz
from gharts_core.errors import (
    AdminRequired,
    NotTeamMember,
    TeamNotFound,
    UserNotFound,
    ValidationFailed,
)
from gharts_core.model import MachineClient, Principal, SecurityEventType, Team, User
from gharts_core.ports.clock import Clock
from gharts_core.ports.storage import Store, UnitOfWork
from gharts_core.services._events import security_event

T = TypeVar("T")

MAX_REASON_LENGTH = 500
MAX_DESCRIPTION_LENGTH = 1000


class Unset(enum.Enum):
    """The type of :data:`UNSET`."""

    UNSET = "unset"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET
"""A patch field the caller did not send, as opposed to one sent as ``null``."""


def given(value: T | Unset, current: T) -> T:
    """Return the patched value, or ``current`` when the field was not given."""
    return current if value is UNSET else value


def tuple_patch(value: Iterable[T] | Unset) -> tuple[T, ...] | Unset:
    """Convert a given list-valued patch field to a tuple; leave :data:`UNSET` alone."""
    return value if value is UNSET else tuple(value)


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Return the sorted keys whose values differ between two snapshots."""
    return sorted(key for key in after if before.get(key) != after[key])


def user_snapshot(user: User) -> dict[str, Any]:
    """Return the JSON form of a user as recorded in audit rows."""
    return {
        "email": user.email,
        "display_name": user.display_name,
        "is_admin": user.is_admin,
        "is_active": user.is_active,
        "can_use_jit": user.capabilities.can_use_jit,
        "can_use_registration_token": user.capabilities.can_use_registration_token,
    }


def team_snapshot(team: Team) -> dict[str, Any]:
    """Return the JSON form of a team and its policy as recorded in audit rows."""
    return {
        "name": team.name,
        "description": team.description,
        "required_labels": list(team.policy.required_labels),
        "optional_label_patterns": list(team.policy.optional_label_patterns),
        "allowed_runner_group_ids": list(team.allowed_runner_group_ids),
        "default_runner_group_id": team.default_runner_group_id,
        "max_runners": team.max_runners,
        "is_active": team.is_active,
    }


def client_snapshot(client: MachineClient, team_name: str) -> dict[str, Any]:
    """Return the JSON form of a machine client as recorded in audit rows."""
    return {
        "issuer": client.issuer,
        "subject": client.subject,
        "team_id": str(client.team_id),
        "team_name": team_name,
        "description": client.description,
        "can_use_jit": client.capabilities.can_use_jit,
        "can_use_registration_token": client.capabilities.can_use_registration_token,
        "is_active": client.is_active,
    }


def check_text(
    errors: dict[str, str], field: str, value: str, *, max_length: int, required: bool = True
) -> str:
    """Return ``value`` stripped, recording a sentence in ``errors`` when it is empty or long."""
    cleaned = value.strip()
    if required and not cleaned:
        errors[field] = f"{field} must not be empty."
    elif len(cleaned) > max_length:
        errors[field] = f"{field} must be at most {max_length} characters."
    return cleaned


def check_reason(reason: str) -> str:
    """Return a cleaned deactivation reason, or raise :class:`ValidationFailed`."""
    errors: dict[str, str] = {}
    cleaned = check_text(errors, "reason", reason, max_length=MAX_REASON_LENGTH)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def check_optional_reason(reason: str | None) -> str | None:
    """Return a cleaned optional reason (``None`` stays ``None``), or raise ``ValidationFailed``."""
    return None if reason is None else check_reason(reason)


def check_description(description: str) -> str:
    """Return the stripped description, or raise :class:`ValidationFailed` when too long."""
    errors: dict[str, str] = {}
    cleaned = check_text(
        errors, "description", description, max_length=MAX_DESCRIPTION_LENGTH, required=False
    )
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def check_time_range(since: datetime | None, until: datetime | None) -> None:
    """Raise :class:`ValidationFailed` for naive bounds or an empty range."""
    errors = {
        name: f"{name} must carry a UTC offset."
        for name, value in (("since", since), ("until", until))
        if value is not None and value.utcoffset() is None
    }
    if not errors and since is not None and until is not None and since >= until:
        errors["until"] = "until must be later than since."
    if errors:
        raise ValidationFailed(errors)


async def team_by_name(uow: UnitOfWork, name: str) -> Team:
    """Return the team with this name, or raise :class:`TeamNotFound`."""
    team = await uow.teams.get_by_name(name)
    if team is None:
        raise TeamNotFound(name)
    return team


async def team_by_id(uow: UnitOfWork, team_id: uuid.UUID) -> Team:
    """Return the team with this id, or raise :class:`TeamNotFound`."""
    team = await uow.teams.get(team_id)
    if team is None:
        raise TeamNotFound(str(team_id))
    return team


async def user_by_id(uow: UnitOfWork, user_id: uuid.UUID) -> User:
    """Return the user with this id, or raise :class:`UserNotFound`."""
    user = await uow.users.get(user_id)
    if user is None:
        raise UserNotFound(str(user_id))
    return user


async def team_names(
    uow: UnitOfWork, team_ids: Iterable[uuid.UUID], cache: dict[uuid.UUID, str] | None = None
) -> tuple[str, ...]:
    """Return the sorted names of these teams, reading each id once per ``cache``."""
    known = {} if cache is None else cache
    for team_id in team_ids:
        if team_id not in known:
            team = await uow.teams.get(team_id)
            known[team_id] = team.name if team else str(team_id)
    return tuple(sorted(known[team_id] for team_id in team_ids))


async def require_admin(store: Store, clock: Clock, principal: Principal, operation: str) -> None:
    """Raise :class:`AdminRequired` for non-admins, recording the attempt as a security event."""
    try:
        authz.require_admin(principal)
    except AdminRequired:
        async with store.unit_of_work() as uow:
            await uow.security_events.append(
                security_event(
                    clock,
                    principal.actor,
                    SecurityEventType.UNAUTHORIZED_ACCESS,
                    f"'{principal.name}' called the admin operation '{operation}' "
                    "without admin rights.",
                    details={"operation": operation, "kind": principal.kind.value},
                )
            )
        raise


async def require_team_reader(
    store: Store, clock: Clock, principal: Principal, team: Team, operation: str
) -> None:
    """Raise :class:`NotTeamMember` unless the principal may read the team, recording refusals."""
    if authz.can_see_team(principal, team):
        return
    async with store.unit_of_work() as uow:
        await uow.security_events.append(
            security_event(
                clock,
                principal.actor,
                SecurityEventType.UNAUTHORIZED_ACCESS,
                f"'{principal.name}' tried to read team '{team.name}' without being a member.",
                team=team,
                details={"operation": operation, "kind": principal.kind.value},
            )
        )
    raise NotTeamMember(team.name)
