"""Admin use cases for users: create, list, read, patch, deactivate, reactivate, bootstrap admins.

Every method but :meth:`UserAdminService.ensure_admin` takes the acting principal first and
refuses non-admins. Every change writes an audit row in the same unit of work as the change.
Deactivating an inactive user or reactivating an active one changes nothing and records nothing.
A deactivation (by :meth:`UserAdminService.deactivate_user` or a patch of ``is_active``) ends the
user's dashboard sessions in the same unit of work; its audit row says how many
(``sessions_ended``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import attrs

from gharts_core import authz
from gharts_core.errors import Conflict
from gharts_core.model import (
    UNSET,
    Actor,
    AuditAction,
    Capabilities,
    Principal,
    Team,
    Unset,
    User,
    new_id,
)
from gharts_core.ports.clock import Clock
from gharts_core.ports.storage import Page, PageResult, Store, UnitOfWork, UserFilter
from gharts_core.services._checks import check_optional_reason, check_reason
from gharts_core.services._events import audit_event
from gharts_core.services._lookups import require_admin, team_by_name, team_names, user_by_id
from gharts_core.services._snapshots import changed_fields, user_snapshot
from gharts_core.services._user_rules import (
    EmailCheck,
    activation,
    check_display_name,
    check_new_user,
    patched,
)

__all__ = [
    "CreateUser",
    "EnsuredAdmin",
    "UpdateUser",
    "UserAdminService",
    "UserDetails",
    "UserQuery",
]


def _names(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


@attrs.frozen
class CreateUser:
    """Create a person who may call gharts, optionally in some teams (by name)."""

    email: str
    display_name: str
    is_admin: bool = False
    can_use_jit: bool = True
    can_use_registration_token: bool = False
    teams: tuple[str, ...] = attrs.field(default=(), converter=_names)


@attrs.frozen
class UpdateUser:
    """Change some of a user's fields; fields left :data:`UNSET` keep their value.

    ``reason`` is recorded when ``is_active`` turns false.
    """

    display_name: str | Unset = UNSET
    is_admin: bool | Unset = UNSET
    is_active: bool | Unset = UNSET
    can_use_jit: bool | Unset = UNSET
    can_use_registration_token: bool | Unset = UNSET
    reason: str | None = None


@attrs.frozen
class UserQuery:
    """User list filters: email substring, admin and active flags, team name."""

    email: str | None = None
    is_admin: bool | None = None
    is_active: bool | None = None
    team: str | None = None


@attrs.frozen
class UserDetails:
    """A user with the names of the teams it belongs to."""

    user: User
    teams: tuple[str, ...]


@attrs.frozen
class EnsuredAdmin:
    """What :meth:`UserAdminService.ensure_admin` did: ``created`` or ``changed`` or neither."""

    user: User
    created: bool
    changed: bool


class UserAdminService:
    """Manage users; every method needs an admin principal except :meth:`ensure_admin`."""

    def __init__(
        self, store: Store, clock: Clock, *, check_email: EmailCheck | None = None
    ) -> None:
        """``check_email`` validates new addresses (the core's loose shape test when ``None``)."""
        self._store = store
        self._clock = clock
        self._check_email = check_email

    async def create_user(self, principal: Principal, command: CreateUser) -> UserDetails:
        """Create a user and its memberships; ``Conflict`` on a taken email."""
        await require_admin(self._store, self._clock, principal, "user.create")
        capabilities = Capabilities(command.can_use_jit, command.can_use_registration_token)
        user = self._new_user(command.email, command.display_name, command.is_admin, capabilities)
        async with self._store.unit_of_work() as uow:
            teams = [await team_by_name(uow, name) for name in command.teams]
            return await self._insert(uow, principal.actor, user, teams)

    async def list_users(
        self, principal: Principal, query: UserQuery | None = None, page: Page | None = None
    ) -> PageResult[UserDetails]:
        """Return one page of users matching the filters, ordered by email."""
        await require_admin(self._store, self._clock, principal, "user.list")
        query = query or UserQuery()
        async with self._store.unit_of_work() as uow:
            team_id = None if query.team is None else (await team_by_name(uow, query.team)).id
            found = await uow.users.list(
                UserFilter(
                    email=query.email,
                    is_admin=query.is_admin,
                    is_active=query.is_active,
                    team_id=team_id,
                ),
                page or Page(),
            )
            cache: dict[uuid.UUID, str] = {}
            items = [
                UserDetails(
                    user, await team_names(uow, await uow.memberships.team_ids_of(user.id), cache)
                )
                for user in found.items
            ]
        return PageResult(items=tuple(items), total=found.total)

    async def get_user(self, principal: Principal, user_id: uuid.UUID) -> UserDetails:
        """Return one user with its teams; ``UserNotFound`` when there is none."""
        await require_admin(self._store, self._clock, principal, "user.get")
        async with self._store.unit_of_work() as uow:
            return await self._details(uow, await user_by_id(uow, user_id))

    async def update_user(
        self, principal: Principal, user_id: uuid.UUID, command: UpdateUser
    ) -> UserDetails:
        """Apply the given fields; ``Conflict`` when it would leave no active admin."""
        await require_admin(self._store, self._clock, principal, "user.update")
        # Validate before reading, so a malformed patch costs no database round trip.
        patch = attrs.evolve(
            command,
            display_name=check_display_name(command.display_name),
            reason=check_optional_reason(command.reason),
        )
        async with self._store.unit_of_work() as uow:
            current = await user_by_id(uow, user_id)
            updated = patched(
                current,
                **attrs.asdict(patch, recurse=False),
                at=self._clock.now(),
                by=principal.name,
            )
            return await self._save(uow, principal.actor, current, updated, AuditAction.USER_UPDATE)

    async def deactivate_user(
        self, principal: Principal, user_id: uuid.UUID, reason: str
    ) -> UserDetails:
        """Deactivate a user with a reason; ``Conflict`` for the last active admin."""
        await require_admin(self._store, self._clock, principal, "user.deactivate")
        reason = check_reason(reason)
        async with self._store.unit_of_work() as uow:
            current = await user_by_id(uow, user_id)
            deactivation = activation(
                current, False, reason=reason, at=self._clock.now(), by=principal.name
            )
            updated = attrs.evolve(current, deactivation=deactivation)
            return await self._save(
                uow, principal.actor, current, updated, AuditAction.USER_DEACTIVATE
            )

    async def reactivate_user(self, principal: Principal, user_id: uuid.UUID) -> UserDetails:
        """Reactivate a deactivated user."""
        await require_admin(self._store, self._clock, principal, "user.reactivate")
        async with self._store.unit_of_work() as uow:
            current = await user_by_id(uow, user_id)
            updated = attrs.evolve(current, deactivation=None)
            return await self._save(
                uow, principal.actor, current, updated, AuditAction.USER_REACTIVATE
            )

    async def ensure_admin(
        self,
        email: str,
        display_name: str,
        *,
        reactivate: bool = False,
        actor: Actor | None = None,
    ) -> EnsuredAdmin:
        """Create an admin, or promote the existing user with this email, as ``actor``.

        For ``auth.bootstrap_admins`` (the system actor, the default) and ``gharts admin
        create-admin`` (the operator). An existing user keeps its display name; a deactivated
        one stays deactivated unless ``reactivate`` is true, so that restarting the service does
        not undo an admin's decision.
        """
        candidate = self._new_user(email, display_name, True, Capabilities())
        actor = actor or Actor.system()
        async with self._store.unit_of_work() as uow:
            current = await uow.users.get_by_email(candidate.email)
            if current is None:
                await self._insert(uow, actor, candidate, [])
                return EnsuredAdmin(candidate, created=True, changed=True)
            updated = attrs.evolve(
                current,
                is_admin=True,
                deactivation=None if reactivate else current.deactivation,
            )
            saved = await self._save(uow, actor, current, updated, AuditAction.USER_UPDATE)
            return EnsuredAdmin(saved.user, created=False, changed=saved.user != current)

    def _new_user(
        self, email: str, display_name: str, is_admin: bool, capabilities: Capabilities
    ) -> User:
        email, display_name = check_new_user(email, display_name, self._check_email)
        now = self._clock.now()
        return User(
            id=new_id(),
            email=email,
            display_name=display_name,
            is_admin=is_admin,
            capabilities=capabilities,
            created_at=now,
            updated_at=now,
        )

    async def _insert(
        self, uow: UnitOfWork, actor: Actor, user: User, teams: list[Team]
    ) -> UserDetails:
        if await uow.users.get_by_email(user.email) is not None:
            raise Conflict(f"A user with email '{user.email}' already exists.")
        await uow.users.add(user)
        names = tuple(sorted(team.name for team in teams))
        details = {"user": user_snapshot(user), "teams": list(names)}
        await self._audit(uow, actor, AuditAction.USER_CREATE, user, details)
        for team in teams:
            await uow.memberships.add(team.id, user.id)
            await self._audit(uow, actor, AuditAction.TEAM_MEMBER_ADD, user, {}, team=team)
        return UserDetails(user, names)

    async def _save(
        self, uow: UnitOfWork, actor: Actor, current: User, updated: User, action: AuditAction
    ) -> UserDetails:
        before, after = user_snapshot(current), user_snapshot(updated)
        changed = changed_fields(before, after)
        if not changed:
            return await self._details(uow, current)
        authz.ensure_not_last_admin(current, updated, await uow.users.count_active_admins())
        updated = attrs.evolve(updated, updated_at=self._clock.now())
        await uow.users.update(updated)
        details: dict[str, Any] = {"before": before, "after": after, "changed": changed}
        if updated.deactivation is not None and "is_active" in changed:
            details["reason"] = updated.deactivation.reason
            # In the same unit of work: the dashboard stops at once, not at the next request.
            details["sessions_ended"] = await uow.dashboard_sessions.delete_for_user(updated.id)
        await self._audit(uow, actor, action, updated, details)
        return await self._details(uow, updated)

    async def _details(self, uow: UnitOfWork, user: User) -> UserDetails:
        return UserDetails(user, await team_names(uow, await uow.memberships.team_ids_of(user.id)))

    async def _audit(
        self,
        uow: UnitOfWork,
        actor: Actor,
        action: AuditAction,
        user: User,
        details: dict[str, Any],
        *,
        team: Team | None = None,
    ) -> None:
        await uow.audit.append(
            audit_event(
                self._clock,
                actor,
                action,
                target_type="user",
                target_id=user.id,
                team=team,
                details={"email": user.email, **details},
            )
        )
