"""Users, teams, memberships and machine clients.

Writes that can break a uniqueness rule run in a SAVEPOINT, so that after a ``Conflict`` the unit
of work stays usable on PostgreSQL too (an error there otherwise aborts the whole transaction).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import ColumnElement, Select, bindparam, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gharts_adapters.storage import convert
from gharts_adapters.storage.errors import translating
from gharts_adapters.storage.repositories.base import SqlRepository
from gharts_adapters.storage.tables import clients, memberships, teams, users
from gharts_core.errors import ClientNotFound, TeamNotFound, UserNotFound
from gharts_core.model import MachineClient, Team, User
from gharts_core.ports.storage import ClientFilter, Page, PageResult, TeamFilter, UserFilter


class SqlUserRepository(SqlRepository):
    """People who may call gharts."""

    @translating
    async def get(self, user_id: uuid.UUID) -> User | None:
        """Return the user with this id, or ``None``."""
        row = await self._first(select(users).where(users.c.id == user_id))
        return None if row is None else convert.to_user(row)

    @translating
    async def get_by_subject(self, issuer: str, subject: str) -> User | None:
        """Return the user bound to this (issuer, subject), or ``None``."""
        row = await self._first(
            select(users).where(users.c.oidc_issuer == issuer, users.c.oidc_subject == subject)
        )
        return None if row is None else convert.to_user(row)

    @translating
    async def get_by_email(self, email: str) -> User | None:
        """Return the user with this email (case-insensitive), or ``None``."""
        row = await self._first(select(users).where(users.c.email == email.lower()))
        return None if row is None else convert.to_user(row)

    @translating
    async def add(self, user: User) -> None:
        """Insert a new user; raise ``Conflict`` when the email or binding is taken."""
        async with self._connection.begin_nested():
            await self._execute(users.insert().values(convert.user_row(user)))

    @translating
    async def update(self, user: User) -> None:
        """Replace the stored user with the same id; raise ``Conflict`` on a taken email."""
        async with self._connection.begin_nested():
            result = await self._execute(
                update(users).where(users.c.id == user.id).values(convert.user_row(user))
            )
        if result.rowcount == 0:
            raise UserNotFound(str(user.id))

    @translating
    async def bind_identity(
        self, user: User, issuer: str, subject: str, at: datetime
    ) -> User | None:
        """Bind ``user`` to (issuer, subject) if still unbound; ``None`` if bound already or gone.

        One conditional UPDATE: on PostgreSQL a second binder waits for the first one's row
        lock, then finds the row bound and changes nothing.
        """
        async with self._connection.begin_nested():
            result = await self._execute(
                update(users)
                .where(users.c.id == user.id, users.c.oidc_subject.is_(None))
                .values(oidc_issuer=issuer, oidc_subject=subject, updated_at=at)
            )
        if result.rowcount == 0:
            return None
        return attrs.evolve(user, oidc_issuer=issuer, oidc_subject=subject, updated_at=at)

    @translating
    async def list(self, query: UserFilter, page: Page) -> PageResult[User]:
        """Return one page of users matching the filter, ordered by email."""
        where: list[ColumnElement[bool]] = []
        if query.email is not None:
            where.append(users.c.email.contains(query.email.lower(), autoescape=True))
        if query.is_admin is not None:
            where.append(users.c.is_admin.is_(query.is_admin))
        if query.is_active is not None:
            where.append(
                users.c.deactivated_at.is_(None)
                if query.is_active
                else users.c.deactivated_at.is_not(None)
            )
        if query.team_id is not None:
            where.append(
                users.c.id.in_(
                    select(memberships.c.user_id).where(memberships.c.team_id == query.team_id)
                )
            )
        return await self._page(users, where, [users.c.email], page, convert.to_user)

    @translating
    async def count_active_admins(self) -> int:
        """Return how many active users are admins, locking those rows until the unit ends.

        The lock serialises two admins demoting each other at once on PostgreSQL: the second
        waits, re-reads the rows and sees one admin left (SQLite serialises writers already).
        """
        result = await self._connection.execute(
            select(users.c.id)
            .where(users.c.is_admin.is_(True), users.c.deactivated_at.is_(None))
            .with_for_update()
        )
        return len(result.all())


def _team_where(where: ColumnElement[bool]) -> tuple[Select[Any], Select[Any]]:
    """Return the team read by one bound parameter, plain and ``FOR UPDATE``, built once.

    Every reservation reads its team: a statement built once is found in SQLAlchemy's compiled
    cache by a memoised key instead of one computed over a new tree per request.
    """
    statement = select(teams).where(where)
    return statement, statement.with_for_update()


_TEAM_BY_ID = _team_where(teams.c.id == bindparam("team_id", type_=teams.c.id.type))
_TEAM_BY_NAME = _team_where(teams.c.name == bindparam("team_name", type_=teams.c.name.type))


class SqlTeamRepository(SqlRepository):
    """Teams and their policies.

    ``locked`` is shared with the unit of work's runner repository: the ids of the team rows
    this transaction read ``FOR UPDATE``, whose reservations need no lock of their own.
    """

    def __init__(self, connection: AsyncConnection, dialect: str, locked: set[uuid.UUID]) -> None:
        super().__init__(connection, dialect)
        self._locked = locked

    @translating
    async def get(self, team_id: uuid.UUID, *, for_update: bool = False) -> Team | None:
        """Return the team with this id, or ``None``; ``for_update`` locks its row."""
        return await self._one(_TEAM_BY_ID, for_update=for_update, team_id=team_id)

    @translating
    async def get_by_name(self, name: str, *, for_update: bool = False) -> Team | None:
        """Return the team with this name, or ``None``; ``for_update`` locks its row."""
        return await self._one(_TEAM_BY_NAME, for_update=for_update, team_name=name)

    async def _one(
        self, statements: tuple[Select[Any], Select[Any]], *, for_update: bool, **parameters: Any
    ) -> Team | None:
        statement = statements[1] if for_update else statements[0]
        row = await self._first(statement, parameters)
        if row is None:
            return None
        team = convert.to_team(row)
        if for_update:
            self._locked.add(team.id)
        return team

    @translating
    async def add(self, team: Team) -> None:
        """Insert a new team; raise ``Conflict`` when the name is taken."""
        async with self._connection.begin_nested():
            await self._execute(teams.insert().values(convert.team_row(team)))

    @translating
    async def update(self, team: Team) -> None:
        """Replace the stored team with the same id."""
        async with self._connection.begin_nested():
            result = await self._execute(
                update(teams).where(teams.c.id == team.id).values(convert.team_row(team))
            )
        if result.rowcount == 0:
            raise TeamNotFound(str(team.id))

    @translating
    async def list(self, query: TeamFilter, page: Page) -> PageResult[Team]:
        """Return one page of teams matching the filter, ordered by name."""
        where: list[ColumnElement[bool]] = []
        if query.team_ids is not None:
            where.append(teams.c.id.in_(query.team_ids))
        if query.is_active is not None:
            where.append(
                teams.c.deactivated_at.is_(None)
                if query.is_active
                else teams.c.deactivated_at.is_not(None)
            )
        return await self._page(teams, where, [teams.c.name], page, convert.to_team)


class SqlMembershipRepository(SqlRepository):
    """Which users belong to which teams."""

    @translating
    async def add(self, team_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """Add a membership; return ``False`` when it already existed."""
        if not await self._connection.scalar(select(exists().where(teams.c.id == team_id))):
            raise TeamNotFound(str(team_id))
        if not await self._connection.scalar(select(exists().where(users.c.id == user_id))):
            raise UserNotFound(str(user_id))
        result = await self._execute(
            self._insert(memberships)
            .values(team_id=team_id, user_id=user_id)
            .on_conflict_do_nothing()
        )
        return result.rowcount == 1

    @translating
    async def remove(self, team_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """Remove a membership; return ``False`` when there was none."""
        result = await self._execute(
            delete(memberships).where(
                memberships.c.team_id == team_id, memberships.c.user_id == user_id
            )
        )
        return result.rowcount == 1

    @translating
    async def team_ids_of(self, user_id: uuid.UUID) -> frozenset[uuid.UUID]:
        """Return the ids of every team the user belongs to (active or not)."""
        result = await self._connection.scalars(
            select(memberships.c.team_id).where(memberships.c.user_id == user_id)
        )
        return frozenset(result.all())

    @translating
    async def members_of(self, team_id: uuid.UUID) -> Sequence[User]:
        """Return the team's members ordered by email."""
        rows = await self._all(
            select(users)
            .join(memberships, memberships.c.user_id == users.c.id)
            .where(memberships.c.team_id == team_id)
            .order_by(users.c.email)
        )
        return [convert.to_user(row) for row in rows]


class SqlClientRepository(SqlRepository):
    """Machine clients: (issuer, subject) bound to one team."""

    @translating
    async def get(self, client_id: uuid.UUID) -> MachineClient | None:
        """Return the client with this id, or ``None``."""
        row = await self._first(select(clients).where(clients.c.id == client_id))
        return None if row is None else convert.to_client(row)

    @translating
    async def get_active(self, issuer: str, subject: str) -> MachineClient | None:
        """Return the active client for this (issuer, subject), or ``None``."""
        row = await self._first(
            select(clients).where(
                clients.c.issuer == issuer,
                clients.c.subject == subject,
                clients.c.is_active.is_(True),
            )
        )
        return None if row is None else convert.to_client(row)

    async def _require_team(self, team_id: uuid.UUID) -> None:
        if not await self._connection.scalar(select(exists().where(teams.c.id == team_id))):
            raise TeamNotFound(str(team_id))

    @translating
    async def add(self, client: MachineClient) -> None:
        """Insert a client; raise ``Conflict`` when an active one has the same (issuer, subject)."""
        await self._require_team(client.team_id)
        async with self._connection.begin_nested():
            await self._execute(clients.insert().values(convert.client_row(client)))

    @translating
    async def update(self, client: MachineClient) -> None:
        """Replace the stored client; raise ``Conflict`` when enabling would make two active."""
        await self._require_team(client.team_id)
        async with self._connection.begin_nested():
            result = await self._execute(
                update(clients).where(clients.c.id == client.id).values(convert.client_row(client))
            )
        if result.rowcount == 0:
            raise ClientNotFound(str(client.id))

    @translating
    async def list(self, query: ClientFilter, page: Page) -> PageResult[MachineClient]:
        """Return one page of clients matching the filter, oldest first."""
        where: list[ColumnElement[bool]] = []
        if query.team_id is not None:
            where.append(clients.c.team_id == query.team_id)
        if query.issuer is not None:
            where.append(clients.c.issuer == query.issuer)
        if query.is_active is not None:
            where.append(clients.c.is_active.is_(query.is_active))
        order = [clients.c.created_at, clients.c.id]
        return await self._page(clients, where, order, page, convert.to_client)
