"""Authorization rules: capabilities, team selection, runner groups, visibility, admin guard.

Pure functions over domain values. Services load what the rules need and act on their answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from gharts_core.errors import (
    AdminRequired,
    Conflict,
    NotTeamMember,
    RunnerGroupNotAllowed,
    TeamInactive,
    TeamRequired,
    UserNotAuthorized,
)
from gharts_core.model import Principal, PrincipalKind, ProvisionMethod, RunnerRecord, Team, User


def require_admin(principal: Principal) -> None:
    """Raise :class:`AdminRequired` unless the principal is an admin user (or the system)."""
    if not principal.is_admin or principal.kind is PrincipalKind.MACHINE:
        raise AdminRequired


def require_capability(principal: Principal, method: ProvisionMethod) -> None:
    """Raise :class:`UserNotAuthorized` when the principal may not use this provisioning flow."""
    allowed = (
        principal.capabilities.can_use_jit
        if method is ProvisionMethod.JIT
        else principal.capabilities.can_use_registration_token
    )
    if not allowed:
        flow = "JIT" if method is ProvisionMethod.JIT else "registration-token"
        raise UserNotAuthorized(f"'{principal.name}' may not use the {flow} provisioning flow.")


def select_team(
    principal: Principal,
    *,
    requested: Team | None,
    requested_key: str | None,
    member_teams: Sequence[Team],
) -> Team:
    """Choose the team a request acts for.

    ``requested`` is the team the caller named (already looked up; the service raises
    ``TeamNotFound`` when the name or id matched nothing) and ``requested_key`` the name or id the
    caller sent, or both ``None`` when the caller named none. ``member_teams`` are the principal's
    teams, active or not. Admins may act for any team; others only for their own. Without a name
    the principal's only active team is chosen; several give :class:`TeamRequired`.
    """
    if requested is not None:
        if not principal.is_admin and requested.id not in principal.team_ids:
            raise NotTeamMember(requested_key or requested.name)
        if not requested.is_active:
            raise TeamInactive(requested.name, _reason(requested))
        return requested
    active = [team for team in member_teams if team.is_active]
    if len(active) == 1:
        return active[0]
    if len(active) > 1:
        raise TeamRequired([team.name for team in active])
    if member_teams:
        only = member_teams[0]
        raise TeamInactive(only.name, _reason(only))
    raise UserNotAuthorized(f"'{principal.name}' belongs to no team.")


def _reason(team: Team) -> str | None:
    return team.deactivation.reason if team.deactivation else None


def resolve_runner_group(team: Team, requested: int | None) -> int:
    """Return the runner group to use: the requested one if the team allows it, else the default."""
    if requested is None:
        return team.default_runner_group_id
    if requested not in team.allowed_runner_group_ids:
        raise RunnerGroupNotAllowed(requested, team.allowed_runner_group_ids)
    return requested


def visible_team_ids(principal: Principal) -> frozenset[uuid.UUID] | None:
    """Return the teams whose runners the principal sees; ``None`` means every team."""
    if principal.is_admin and principal.kind is not PrincipalKind.MACHINE:
        return None
    return principal.team_ids


def can_see_runner(principal: Principal, runner: RunnerRecord) -> bool:
    """Return whether the principal may list, get, refresh or delete this runner."""
    teams = visible_team_ids(principal)
    return teams is None or runner.team_id in teams


def can_see_team(principal: Principal, team: Team) -> bool:
    """Return whether the principal may read this team (its policy, audit log, events)."""
    teams = visible_team_ids(principal)
    return teams is None or team.id in teams


def ensure_not_last_admin(current: User, updated: User, active_admins: int) -> None:
    """Raise :class:`Conflict` when the change would leave no active admin.

    ``active_admins`` counts active admins before the change, ``current`` included.
    """
    was_counted = current.is_admin and current.is_active
    still_counted = updated.is_admin and updated.is_active
    if was_counted and not still_counted and active_admins <= 1:
        raise Conflict("The last active admin cannot be demoted or deactivated.")
