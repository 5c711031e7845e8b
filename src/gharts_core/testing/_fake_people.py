"""In-memory users, teams, memberships and machine clients, unique where the SQL schema is."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import attrs

from gharts_core.errors import ClientNotFound, Conflict, TeamNotFound, UserNotFound
from gharts_core.model import MachineClient, Team, User
from gharts_core.ports.storage import ClientFilter, Page, PageResult, TeamFilter, UserFilter
from gharts_core.testing._fake_state import FakeRepository, one_page


class FakeUserRepository(FakeRepository):
    """People who may call gharts."""

    async def get(self, user_id: uuid.UUID) -> User | None:
        """Return the user with this id, or ``None``."""
        return self._s.users.get(user_id)

    async def get_by_subject(self, issuer: str, subject: str) -> User | None:
        """Return the user bound to this (issuer, subject), or ``None``."""
        return next(
            (
                u
                for u in self._s.users.values()
                if u.oidc_issuer == issuer and u.oidc_subject == subject
            ),
            None,
        )

    async def get_by_email(self, email: str) -> User | None:
        """Return the user with this email (case-insensitive), or ``None``."""
        wanted = email.lower()
        return next((u for u in self._s.users.values() if u.email == wanted), None)

    def _check_unique(self, user: User) -> None:
        for other in self._s.users.values():
            if other.id == user.id:
                continue
            if other.email == user.email:
                raise Conflict(f"A user with email '{user.email}' already exists.")
            if (
                user.oidc_issuer is not None
                and user.oidc_subject is not None
                and (other.oidc_issuer, other.oidc_subject) == (user.oidc_issuer, user.oidc_subject)
            ):
                raise Conflict(
                    f"Another user is already bound to ({user.oidc_issuer}, {user.oidc_subject})."
                )

    async def add(self, user: User) -> None:
        """Insert a new user; raise ``Conflict`` when the email or binding is taken."""
        if user.id in self._s.users:
            raise Conflict(f"A user with id '{user.id}' already exists.")
        self._check_unique(user)
        self._s.users[user.id] = user
        self._s.writes += 1

    async def update(self, user: User) -> None:
        """Replace the stored user with the same id; raise ``Conflict`` on a taken email."""
        if user.id not in self._s.users:
            raise UserNotFound(str(user.id))
        self._check_unique(user)
        self._s.users[user.id] = user
        self._s.writes += 1

    async def bind_identity(
        self, user: User, issuer: str, subject: str, at: datetime
    ) -> User | None:
        """Bind ``user`` to (issuer, subject) if still unbound; ``None`` if bound or gone."""
        current = self._s.users.get(user.id)
        if current is None or current.oidc_subject is not None:
            return None
        bound = attrs.evolve(current, oidc_issuer=issuer, oidc_subject=subject, updated_at=at)
        self._check_unique(bound)
        self._s.users[user.id] = bound
        self._s.writes += 1
        return bound

    async def list(self, query: UserFilter, page: Page) -> PageResult[User]:
        """Return one page of users matching the filter, ordered by email."""
        members = (
            None
            if query.team_id is None
            else {u for t, u in self._s.memberships if t == query.team_id}
        )
        found = (
            u
            for u in self._s.users.values()
            if (query.email is None or query.email.lower() in u.email)
            and (query.is_admin is None or u.is_admin == query.is_admin)
            and (query.is_active is None or u.is_active == query.is_active)
            and (members is None or u.id in members)
        )
        return one_page(found, page, key=lambda u: u.email)

    async def count_active_admins(self) -> int:
        """Return how many active users are admins."""
        return sum(1 for u in self._s.users.values() if u.is_admin and u.is_active)


class FakeTeamRepository(FakeRepository):
    """Teams and their policies."""

    async def get(self, team_id: uuid.UUID, *, for_update: bool = False) -> Team | None:  # noqa: ARG002
        """Return the team with this id, or ``None`` (one writer at a time: nothing to lock)."""
        return self._s.teams.get(team_id)

    async def get_by_name(self, name: str, *, for_update: bool = False) -> Team | None:  # noqa: ARG002
        """Return the team with this name, or ``None``."""
        return next((t for t in self._s.teams.values() if t.name == name), None)

    async def add(self, team: Team) -> None:
        """Insert a new team; raise ``Conflict`` when the name is taken."""
        if team.id in self._s.teams:
            raise Conflict(f"A team with id '{team.id}' already exists.")
        if await self.get_by_name(team.name) is not None:
            raise Conflict(f"A team named '{team.name}' already exists.")
        self._s.teams[team.id] = team
        self._s.writes += 1

    async def update(self, team: Team) -> None:
        """Replace the stored team with the same id."""
        if team.id not in self._s.teams:
            raise TeamNotFound(str(team.id))
        other = await self.get_by_name(team.name)
        if other is not None and other.id != team.id:
            raise Conflict(f"A team named '{team.name}' already exists.")
        self._s.teams[team.id] = team
        self._s.writes += 1

    async def list(self, query: TeamFilter, page: Page) -> PageResult[Team]:
        """Return one page of teams matching the filter, ordered by name."""
        found = (
            t
            for t in self._s.teams.values()
            if (query.team_ids is None or t.id in query.team_ids)
            and (query.is_active is None or t.is_active == query.is_active)
        )
        return one_page(found, page, key=lambda t: t.name)


class FakeMembershipRepository(FakeRepository):
    """Which users belong to which teams."""

    async def add(self, team_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """Add a membership; return ``False`` when it already existed."""
        if team_id not in self._s.teams:
            raise TeamNotFound(str(team_id))
        if user_id not in self._s.users:
            raise UserNotFound(str(user_id))
        if (team_id, user_id) in self._s.memberships:
            return False
        self._s.memberships.add((team_id, user_id))
        self._s.writes += 1
        return True

    async def remove(self, team_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """Remove a membership; return ``False`` when there was none."""
        if (team_id, user_id) not in self._s.memberships:
            return False
        self._s.memberships.discard((team_id, user_id))
        self._s.writes += 1
        return True

    async def team_ids_of(self, user_id: uuid.UUID) -> frozenset[uuid.UUID]:
        """Return the ids of every team the user belongs to (active or not)."""
        return frozenset(t for t, u in self._s.memberships if u == user_id)

    async def members_of(self, team_id: uuid.UUID) -> Sequence[User]:
        """Return the team's members ordered by email."""
        users = (self._s.users[u] for t, u in self._s.memberships if t == team_id)
        return sorted(users, key=lambda u: u.email)


class FakeClientRepository(FakeRepository):
    """Machine clients: (issuer, subject) bound to one team."""

    async def get(self, client_id: uuid.UUID) -> MachineClient | None:
        """Return the client with this id, or ``None``."""
        return self._s.clients.get(client_id)

    async def get_active(self, issuer: str, subject: str) -> MachineClient | None:
        """Return the active client for this (issuer, subject), or ``None``."""
        return next(
            (
                c
                for c in self._s.clients.values()
                if c.is_active and c.issuer == issuer and c.subject == subject
            ),
            None,
        )

    def _check(self, client: MachineClient) -> None:
        if client.team_id not in self._s.teams:
            raise TeamNotFound(str(client.team_id))
        identity = (client.issuer, client.subject)
        if client.is_active and any(
            other.id != client.id and other.is_active and (other.issuer, other.subject) == identity
            for other in self._s.clients.values()
        ):
            raise Conflict(
                f"An active client for ({client.issuer}, {client.subject}) already exists."
            )

    async def add(self, client: MachineClient) -> None:
        """Insert a client; raise ``Conflict`` when an active one has the same (issuer, subject)."""
        self._check(client)
        if client.id in self._s.clients:
            raise Conflict(f"A client with id '{client.id}' already exists.")
        self._s.clients[client.id] = client
        self._s.writes += 1

    async def update(self, client: MachineClient) -> None:
        """Replace the stored client; raise ``Conflict`` when enabling would make two active."""
        self._check(client)
        if client.id not in self._s.clients:
            raise ClientNotFound(str(client.id))
        self._s.clients[client.id] = client
        self._s.writes += 1

    async def list(self, query: ClientFilter, page: Page) -> PageResult[MachineClient]:
        """Return one page of clients matching the filter, oldest first."""
        found = (
            c
            for c in self._s.clients.values()
            if (query.team_id is None or c.team_id == query.team_id)
            and (query.issuer is None or c.issuer == query.issuer)
            and (query.is_active is None or c.is_active == query.is_active)
        )
        return one_page(found, page, key=lambda c: (c.created_at, c.id))
