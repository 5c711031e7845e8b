"""Admin use cases for teams: create, list, read, patch the policy, (de)activate, members.

Every method takes the acting principal first and refuses non-admins. Every change writes an
audit row with before/after snapshots in the same unit of work. A patch that changes nothing,
deactivating an inactive team and reactivating an active one record nothing. Adding an existing
member and removing a non-member are idempotent (``changed`` is false), as HTTP ``POST`` retries
and ``DELETE`` expect. Policy changes apply to new runners; existing ones are judged by the sync
worker's drift check, and lowering ``max_runners`` below the live count only blocks new runners.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

import attrs

from gharts_core.errors import Conflict
from gharts_core.model import UNSET, AuditAction, Deactivation, Principal, Team, Unset, User, new_id
from gharts_core.ports.clock import Clock
from gharts_core.ports.storage import Page, PageResult, Store, TeamFilter, UnitOfWork
from gharts_core.services._checks import check_description, check_reason
from gharts_core.services._events import audit_event
from gharts_core.services._lookups import require_admin, team_by_name, user_by_id
from gharts_core.services._patching import given, tuple_patch
from gharts_core.services._snapshots import changed_fields, team_snapshot
from gharts_core.services._team_settings import build_settings, check_name

__all__ = [
    "CreateTeam",
    "MembershipChange",
    "TeamAdminService",
    "TeamQuery",
    "UpdateTeam",
]

DEFAULT_RUNNER_GROUP_ID = 1  # GitHub's "Default" runner group


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _ints(values: Iterable[int]) -> tuple[int, ...]:
    return tuple(values)


def _strings_patch(values: Iterable[str] | Unset) -> tuple[str, ...] | Unset:
    return tuple_patch(values)


def _ints_patch(values: Iterable[int] | Unset) -> tuple[int, ...] | Unset:
    return tuple_patch(values)


@attrs.frozen
class CreateTeam:
    """Create a team with its label policy, runner groups and quota.

    ``allowed_runner_group_ids`` defaults to GitHub's Default group; ``default_runner_group_id``
    ``None`` means the first allowed group; ``max_runners`` ``None`` means unlimited, otherwise at
    least 1.
    """

    name: str
    description: str = ""
    required_labels: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    optional_label_patterns: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    allowed_runner_group_ids: tuple[int, ...] = attrs.field(
        default=(DEFAULT_RUNNER_GROUP_ID,), converter=_ints
    )
    default_runner_group_id: int | None = None
    max_runners: int | None = None


@attrs.frozen
class UpdateTeam:
    """Change some of a team's fields; fields left :data:`UNSET` keep their value.

    ``max_runners=None`` removes the limit; ``default_runner_group_id=None`` picks the first
    allowed group. When the allowed groups change and the current default is no longer among
    them, a new default must be given.
    """

    description: str | Unset = UNSET
    required_labels: tuple[str, ...] | Unset = attrs.field(default=UNSET, converter=_strings_patch)
    optional_label_patterns: tuple[str, ...] | Unset = attrs.field(
        default=UNSET, converter=_strings_patch
    )
    allowed_runner_group_ids: tuple[int, ...] | Unset = attrs.field(
        default=UNSET, converter=_ints_patch
    )
    default_runner_group_id: int | Unset | None = UNSET
    max_runners: int | Unset | None = UNSET


@attrs.frozen
class TeamQuery:
    """Team list filters."""

    is_active: bool | None = None


@attrs.frozen
class MembershipChange:
    """The outcome of adding or removing a member; ``changed`` is false when it was a no-op."""

    team: Team
    user: User
    changed: bool


class TeamAdminService:
    """Manage teams, their policies and their members; every method needs an admin."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def create_team(self, principal: Principal, command: CreateTeam) -> Team:
        """Create a team; ``ValidationFailed``, ``InvalidPolicy`` or ``Conflict`` on bad input."""
        await require_admin(self._store, self._clock, principal, "team.create")
        name = check_name(command.name)
        description = check_description(command.description)
        settings = build_settings(
            required_labels=command.required_labels,
            optional_label_patterns=command.optional_label_patterns,
            allowed_runner_group_ids=command.allowed_runner_group_ids,
            default_runner_group_id=command.default_runner_group_id,
            max_runners=command.max_runners,
        )
        now = self._clock.now()
        team = Team(
            id=new_id(),
            name=name,
            description=description,
            policy=settings.policy,
            allowed_runner_group_ids=settings.allowed_runner_group_ids,
            default_runner_group_id=settings.default_runner_group_id,
            max_runners=settings.max_runners,
            created_at=now,
            updated_at=now,
        )
        async with self._store.unit_of_work() as uow:
            if await uow.teams.get_by_name(name) is not None:
                raise Conflict(f"A team named '{name}' already exists.")
            await uow.teams.add(team)
            await self._audit(uow, principal, AuditAction.TEAM_CREATE, team, team_snapshot(team))
        return team

    async def get_team(self, principal: Principal, name: str) -> Team:
        """Return the team with this name; ``TeamNotFound`` when there is none."""
        await require_admin(self._store, self._clock, principal, "team.get")
        async with self._store.unit_of_work() as uow:
            return await team_by_name(uow, name)

    async def list_teams(
        self, principal: Principal, query: TeamQuery | None = None, page: Page | None = None
    ) -> PageResult[Team]:
        """Return one page of teams, ordered by name."""
        await require_admin(self._store, self._clock, principal, "team.list")
        is_active = (query or TeamQuery()).is_active
        async with self._store.unit_of_work() as uow:
            return await uow.teams.list(TeamFilter(is_active=is_active), page or Page())

    async def update_team(self, principal: Principal, name: str, command: UpdateTeam) -> Team:
        """Apply the given fields; the whole resulting policy is validated before saving."""
        await require_admin(self._store, self._clock, principal, "team.update")
        description = (
            UNSET if command.description is UNSET else check_description(command.description)
        )
        async with self._store.unit_of_work() as uow:
            current = await team_by_name(uow, name)
            settings = build_settings(
                required_labels=given(command.required_labels, current.policy.required_labels),
                optional_label_patterns=given(
                    command.optional_label_patterns, current.policy.optional_label_patterns
                ),
                allowed_runner_group_ids=given(
                    command.allowed_runner_group_ids, current.allowed_runner_group_ids
                ),
                default_runner_group_id=given(
                    command.default_runner_group_id, current.default_runner_group_id
                ),
                max_runners=given(command.max_runners, current.max_runners),
            )
            updated = attrs.evolve(
                current,
                description=given(description, current.description),
                policy=settings.policy,
                allowed_runner_group_ids=settings.allowed_runner_group_ids,
                default_runner_group_id=settings.default_runner_group_id,
                max_runners=settings.max_runners,
            )
            return await self._save(uow, principal, current, updated, AuditAction.TEAM_UPDATE)

    async def deactivate_team(self, principal: Principal, name: str, reason: str) -> Team:
        """Stop the team from provisioning; its runners, members and clients stay."""
        await require_admin(self._store, self._clock, principal, "team.deactivate")
        reason = check_reason(reason)
        async with self._store.unit_of_work() as uow:
            current = await team_by_name(uow, name)
            deactivation = Deactivation(reason=reason, at=self._clock.now(), by=principal.name)
            updated = attrs.evolve(current, deactivation=deactivation)
            return await self._save(uow, principal, current, updated, AuditAction.TEAM_DEACTIVATE)

    async def reactivate_team(self, principal: Principal, name: str) -> Team:
        """Let a deactivated team provision again."""
        await require_admin(self._store, self._clock, principal, "team.reactivate")
        async with self._store.unit_of_work() as uow:
            current = await team_by_name(uow, name)
            updated = attrs.evolve(current, deactivation=None)
            return await self._save(uow, principal, current, updated, AuditAction.TEAM_REACTIVATE)

    async def list_members(self, principal: Principal, name: str) -> tuple[User, ...]:
        """Return the team's members ordered by email."""
        await require_admin(self._store, self._clock, principal, "team.members")
        async with self._store.unit_of_work() as uow:
            team = await team_by_name(uow, name)
            return tuple(await uow.memberships.members_of(team.id))

    async def add_member(
        self, principal: Principal, name: str, user_id: uuid.UUID
    ) -> MembershipChange:
        """Add a user to the team; ``TeamNotFound`` or ``UserNotFound`` when either is missing."""
        await require_admin(self._store, self._clock, principal, "team.member_add")
        async with self._store.unit_of_work() as uow:
            team = await team_by_name(uow, name)
            user = await user_by_id(uow, user_id)
            changed = await uow.memberships.add(team.id, user.id)
            if changed:
                await self._member_audit(uow, principal, AuditAction.TEAM_MEMBER_ADD, team, user)
        return MembershipChange(team, user, changed)

    async def remove_member(
        self, principal: Principal, name: str, user_id: uuid.UUID
    ) -> MembershipChange:
        """Remove a user from the team; removing a non-member changes nothing."""
        await require_admin(self._store, self._clock, principal, "team.member_remove")
        async with self._store.unit_of_work() as uow:
            team = await team_by_name(uow, name)
            user = await user_by_id(uow, user_id)
            changed = await uow.memberships.remove(team.id, user.id)
            if changed:
                await self._member_audit(uow, principal, AuditAction.TEAM_MEMBER_REMOVE, team, user)
        return MembershipChange(team, user, changed)

    async def _save(
        self,
        uow: UnitOfWork,
        principal: Principal,
        current: Team,
        updated: Team,
        action: AuditAction,
    ) -> Team:
        before, after = team_snapshot(current), team_snapshot(updated)
        changed = changed_fields(before, after)
        if not changed:
            return current
        updated = attrs.evolve(updated, updated_at=self._clock.now())
        await uow.teams.update(updated)
        details: dict[str, object] = {"before": before, "after": after, "changed": changed}
        if updated.deactivation is not None and "is_active" in changed:
            details["reason"] = updated.deactivation.reason
        await self._audit(uow, principal, action, updated, details)
        return updated

    async def _audit(
        self,
        uow: UnitOfWork,
        principal: Principal,
        action: AuditAction,
        team: Team,
        details: Mapping[str, object],
    ) -> None:
        await uow.audit.append(
            audit_event(
                self._clock,
                principal.actor,
                action,
                target_type="team",
                target_id=team.name,
                team=team,
                details=details,
            )
        )

    async def _member_audit(
        self, uow: UnitOfWork, principal: Principal, action: AuditAction, team: Team, user: User
    ) -> None:
        await uow.audit.append(
            audit_event(
                self._clock,
                principal.actor,
                action,
                target_type="user",
                target_id=user.id,
                team=team,
                details={"email": user.email},
            )
        )
