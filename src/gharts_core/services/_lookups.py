"""Lookups the use cases share: entities by name or id, and the admin and team-reader gates.

A lookup raises the matching ``NotFound`` error. A gate records a refusal as a security event in a
unit of work of its own, committed before it raises, so the refused call leaves its trace.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from gharts_core import authz
from gharts_core.errors import AdminRequired, NotTeamMember, TeamNotFound, UserNotFound
from gharts_core.model import Principal, SecurityEventType, Team, User
from gharts_core.ports.clock import Clock
from gharts_core.ports.storage import Store, UnitOfWork
from gharts_core.services._events import security_event


async def team_by_name(uow: UnitOfWork, name: str, *, for_update: bool = False) -> Team:
    """Return the team with this name, or raise :class:`TeamNotFound`."""
    team = await uow.teams.get_by_name(name, for_update=for_update)
    if team is None:
        raise TeamNotFound(name)
    return team


async def team_by_id(uow: UnitOfWork, team_id: uuid.UUID, *, for_update: bool = False) -> Team:
    """Return the team with this id, or raise :class:`TeamNotFound`."""
    team = await uow.teams.get(team_id, for_update=for_update)
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
