"""A small world for the admin and team-view tests: fake store, fake clock, the services."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from gharts_core.model import (
    AuditEvent,
    Capabilities,
    Principal,
    PrincipalKind,
    SecurityEvent,
    Team,
    User,
)
from gharts_core.ports.storage import AuditFilter, Page, SecurityEventFilter
from gharts_core.services.admin_audit import AuditAdminService
from gharts_core.services.admin_clients import ClientAdminService
from gharts_core.services.admin_teams import CreateTeam, TeamAdminService
from gharts_core.services.admin_users import CreateUser, UserAdminService
from gharts_core.services.team_views import TeamViewService
from gharts_core.testing.clock import FakeClock
from gharts_core.testing.fake_store import FakeStore


def principal_for(user: User, teams: Iterable[Team] = ()) -> Principal:
    """Return the principal a token of this user would resolve to."""
    return Principal(
        kind=PrincipalKind.USER,
        id=user.id,
        name=user.email,
        is_admin=user.is_admin,
        capabilities=user.capabilities,
        team_ids=frozenset(team.id for team in teams),
        email=user.email,
    )


def machine_principal(team: Team, *, is_admin: bool = False) -> Principal:
    """Return a machine client's principal bound to ``team``."""
    return Principal(
        kind=PrincipalKind.MACHINE,
        id=uuid.uuid4(),
        name="ci-bot",
        is_admin=is_admin,
        capabilities=Capabilities(),
        team_ids=frozenset({team.id}),
        issuer="https://issuer.example.com/",
        subject="ci-bot",
    )


def outsider() -> Principal:
    """Return a non-admin user principal that belongs to no team."""
    return Principal(
        kind=PrincipalKind.USER,
        id=uuid.uuid4(),
        name="mallory@example.com",
        is_admin=False,
        capabilities=Capabilities(),
        team_ids=frozenset(),
    )


class World:
    """The services over one fake store and one fake clock."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.store = FakeStore()
        self.users = UserAdminService(self.store, self.clock)
        self.teams = TeamAdminService(self.store, self.clock)
        self.clients = ClientAdminService(self.store, self.clock)
        self.audit = AuditAdminService(self.store, self.clock)
        self.views = TeamViewService(self.store, self.clock)

    async def admin(self, email: str = "root@example.com") -> Principal:
        """Create (or promote) an admin user and return its principal."""
        return principal_for((await self.users.ensure_admin(email, "Root")).user)

    async def team(self, admin: Principal, name: str = "backend", **fields: Any) -> Team:
        """Create a team with a simple policy."""
        command = CreateTeam(name=name, required_labels=[name], **fields)
        return await self.teams.create_team(admin, command)

    async def user(
        self, admin: Principal, email: str = "dev@example.com", *, teams: Iterable[str] = ()
    ) -> User:
        """Create a non-admin user in the named teams."""
        details = await self.users.create_user(admin, CreateUser(email, "Dev", teams=tuple(teams)))
        return details.user

    async def audit_rows(self, action: str | None = None) -> list[AuditEvent]:
        """Return every audit row (optionally one action's), newest first."""
        async with self.store.unit_of_work() as uow:
            found = await uow.audit.list(AuditFilter(action=action), Page(limit=500))
        return list(found.items)

    async def security_events(self) -> list[SecurityEvent]:
        """Return every security event, newest first."""
        async with self.store.unit_of_work() as uow:
            found = await uow.security_events.list(SecurityEventFilter(), Page(limit=500))
        return list(found.items)
