"""An in-memory :class:`gharts_core.ports.storage.Store` that behaves like the SQL adapter.

One :class:`asyncio.Lock` is held for the whole unit of work, which works on a copy of the state
that is swapped in only when the block exits normally: units of work are serialisable
transactions, exactly as the contract suite checks for the real databases.

Use it in unit tests::

    store = FakeStore()
    async with store.unit_of_work() as uow:
        await uow.teams.add(team)

    store.fail_with(StorageUnavailable())  # every unit of work now raises it
    store.fail_with(None)                  # back to normal
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

import attrs

from gharts_core.errors import (
    ClientNotFound,
    Conflict,
    RunnerNotFound,
    TeamNotFound,
    UserNotFound,
)
from gharts_core.model import (
    AuditEvent,
    MachineClient,
    RunnerRecord,
    RunnerStatus,
    RunnerTransition,
    SecurityEvent,
    SyncState,
    Team,
    TransitionSource,
    User,
)
from gharts_core.ports.storage import (
    AuditFilter,
    AuditRepository,
    ClientFilter,
    ClientRepository,
    MembershipRepository,
    Page,
    PageResult,
    RunnerFilter,
    RunnerRepository,
    SecurityEventFilter,
    SecurityEventRepository,
    SyncStateRepository,
    TeamFilter,
    TeamRepository,
    UserFilter,
    UserRepository,
    WebhookDeliveryRepository,
)
from gharts_core.quota import check_quota

__all__ = ["FakeStore"]

T = TypeVar("T")


def _page(items: Iterable[T], page: Page, key: Callable[[T], Any] | None = None) -> PageResult[T]:
    ordered = sorted(items, key=key) if key is not None else list(items)
    return PageResult(
        items=tuple(ordered[page.offset : page.offset + page.limit]), total=len(ordered)
    )


def _json_round_trip(value: Any) -> Any:
    # The SQL adapter stores details as JSON: mimic it, and refuse what JSON cannot hold.
    return json.loads(json.dumps(value))


@attrs.define
class _State:
    """Everything the store holds; copied at the start of each unit of work."""

    users: dict[uuid.UUID, User] = attrs.Factory(dict)
    teams: dict[uuid.UUID, Team] = attrs.Factory(dict)
    memberships: set[tuple[uuid.UUID, uuid.UUID]] = attrs.Factory(set)
    clients: dict[uuid.UUID, MachineClient] = attrs.Factory(dict)
    runners: dict[uuid.UUID, RunnerRecord] = attrs.Factory(dict)
    transitions: list[RunnerTransition] = attrs.Factory(list)
    audit: list[AuditEvent] = attrs.Factory(list)
    security_events: list[SecurityEvent] = attrs.Factory(list)
    sync_state: SyncState = attrs.Factory(SyncState)
    deliveries: dict[str, datetime] = attrs.Factory(dict)
    writes: int = 0

    def copy(self) -> _State:
        """Return a copy whose containers can be changed without touching this one."""
        return _State(
            users=dict(self.users),
            teams=dict(self.teams),
            memberships=set(self.memberships),
            clients=dict(self.clients),
            runners=dict(self.runners),
            transitions=list(self.transitions),
            audit=list(self.audit),
            security_events=list(self.security_events),
            sync_state=self.sync_state,
            deliveries=dict(self.deliveries),
            writes=self.writes,
        )


class _Users:
    def __init__(self, state: _State) -> None:
        self._s = state

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
        return _page(found, page, key=lambda u: u.email)

    async def count_active_admins(self) -> int:
        """Return how many active users are admins."""
        return sum(1 for u in self._s.users.values() if u.is_admin and u.is_active)


class _Teams:
    def __init__(self, state: _State) -> None:
        self._s = state

    async def get(self, team_id: uuid.UUID) -> Team | None:
        """Return the team with this id, or ``None``."""
        return self._s.teams.get(team_id)

    async def get_by_name(self, name: str) -> Team | None:
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
        return _page(found, page, key=lambda t: t.name)


class _Memberships:
    def __init__(self, state: _State) -> None:
        self._s = state

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


class _Clients:
    def __init__(self, state: _State) -> None:
        self._s = state

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
        return _page(found, page, key=lambda c: (c.created_at, c.id))


def _newest_first(items: Iterable[T], at: Callable[[T], datetime]) -> list[T]:
    """Order by time descending; ties keep the order given (callers pass newest-inserted first)."""
    return sorted(items, key=at, reverse=True)


class _Runners:
    def __init__(self, state: _State) -> None:
        self._s = state

    def _live(self) -> Iterable[RunnerRecord]:
        return (r for r in self._s.runners.values() if r.status.is_live)

    async def reserve(self, runner: RunnerRecord, max_runners: int | None) -> None:
        """Insert a ``provisioning`` record if the team has room and the name is free."""
        team = self._s.teams.get(runner.team_id)
        if team is None:
            raise TeamNotFound(str(runner.team_id))
        if any(r.name == runner.name for r in self._live()):
            raise Conflict(f"A runner named '{runner.name}' already exists.")
        check_quota(team.name, await self.count_live(team.id), max_runners)
        if runner.id in self._s.runners:
            raise Conflict(f"A runner with id '{runner.id}' already exists.")
        self._s.runners[runner.id] = runner
        self._s.transitions.append(
            RunnerTransition(
                runner_id=runner.id,
                from_status=None,
                to_status=runner.status,
                source=TransitionSource.API,
                at=runner.created_at,
            )
        )
        self._s.writes += 1

    async def get(self, runner_id: uuid.UUID) -> RunnerRecord | None:
        """Return the runner with this id (deleted ones too), or ``None``."""
        return self._s.runners.get(runner_id)

    async def save(self, runner: RunnerRecord, transition: RunnerTransition | None = None) -> None:
        """Replace the stored record and record the transition if one is given."""
        if runner.id not in self._s.runners:
            raise RunnerNotFound(str(runner.id))
        if runner.status.is_live and any(
            r.name == runner.name and r.id != runner.id for r in self._live()
        ):
            raise Conflict(f"A runner named '{runner.name}' already exists.")
        self._s.runners[runner.id] = runner
        if transition is not None:
            self._s.transitions.append(transition)
        self._s.writes += 1

    async def list(self, query: RunnerFilter, page: Page) -> PageResult[RunnerRecord]:
        """Return one page of runners matching the filter, newest first, then by id."""
        label = None if query.label is None else query.label.lower()
        found = sorted(
            (
                r
                for r in self._s.runners.values()
                if (query.team_ids is None or r.team_id in query.team_ids)
                and (query.status is None or r.status is query.status)
                and (query.team_name is None or r.team_name == query.team_name)
                and (label is None or label in r.labels)
                and (query.include_deleted or r.status.is_live)
            ),
            key=lambda r: r.id,
        )
        return _page(_newest_first(found, lambda r: r.created_at), page)

    async def list_live(self) -> Sequence[RunnerRecord]:
        """Return every runner not ``deleted``, oldest first, then by id."""
        return sorted(self._live(), key=lambda r: (r.created_at, r.id))

    async def find_live(
        self, *, github_runner_id: int | None = None, name: str | None = None
    ) -> Sequence[RunnerRecord]:
        """Return live runners with this GitHub id or this name (any case), oldest first."""
        found = [
            r
            for r in self._live()
            if (github_runner_id is not None and r.github_runner_id == github_runner_id)
            or (name is not None and r.name == name.lower())
        ]
        return sorted(found, key=lambda r: (r.created_at, r.id))

    async def count_live(self, team_id: uuid.UUID) -> int:
        """Return how many of the team's runners count towards its quota."""
        return sum(1 for r in self._live() if r.team_id == team_id)

    async def count_by_team_and_status(self) -> dict[tuple[str, RunnerStatus], int]:
        """Return runner counts keyed by (team name, status), deleted excluded."""
        counts: dict[tuple[str, RunnerStatus], int] = {}
        for r in self._live():
            counts[r.team_name, r.status] = counts.get((r.team_name, r.status), 0) + 1
        return counts

    async def transitions(self, runner_id: uuid.UUID) -> Sequence[RunnerTransition]:
        """Return the runner's recorded transitions, oldest first (ties in recording order)."""
        return sorted(
            (t for t in self._s.transitions if t.runner_id == runner_id), key=lambda t: t.at
        )


def _in_range(at: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or at >= since) and (until is None or at < until)


class _Audit:
    def __init__(self, state: _State) -> None:
        self._s = state

    async def append(self, event: AuditEvent) -> None:
        """Add one audit row."""
        if any(e.id == event.id for e in self._s.audit):
            raise Conflict(f"An audit row with id '{event.id}' already exists.")
        self._s.audit.append(attrs.evolve(event, details=_json_round_trip(event.details)))
        self._s.writes += 1

    async def list(self, query: AuditFilter, page: Page) -> PageResult[AuditEvent]:
        """Return one page of audit rows matching the filter, newest first."""
        found = (
            e
            for e in reversed(self._s.audit)
            if (query.actor is None or e.actor.name == query.actor)
            and (query.action is None or e.action == query.action)
            and (query.team_id is None or e.team_id == query.team_id)
            and (query.target_id is None or e.target_id == query.target_id)
            and (query.outcome is None or e.outcome is query.outcome)
            and _in_range(e.at, query.since, query.until)
        )
        return _page(_newest_first(found, lambda e: e.at), page)

    async def purge_before(self, cutoff: datetime) -> int:
        """Delete rows older than ``cutoff`` (retention); return how many."""
        kept = [e for e in self._s.audit if e.at >= cutoff]
        purged = len(self._s.audit) - len(kept)
        self._s.audit = kept
        self._s.writes += 1 if purged else 0
        return purged


class _SecurityEvents:
    def __init__(self, state: _State) -> None:
        self._s = state

    async def append(self, event: SecurityEvent) -> None:
        """Add one security event."""
        if any(e.id == event.id for e in self._s.security_events):
            raise Conflict(f"A security event with id '{event.id}' already exists.")
        self._s.security_events.append(attrs.evolve(event, details=_json_round_trip(event.details)))
        self._s.writes += 1

    async def list(self, query: SecurityEventFilter, page: Page) -> PageResult[SecurityEvent]:
        """Return one page of security events matching the filter, newest first."""
        found = (
            e
            for e in reversed(self._s.security_events)
            if (query.type is None or e.type is query.type)
            and (query.severity is None or e.severity is query.severity)
            and (query.team_id is None or e.team_id == query.team_id)
            and _in_range(e.at, query.since, query.until)
        )
        return _page(_newest_first(found, lambda e: e.at), page)

    async def count_since(self, since: datetime) -> int:
        """Return how many security events happened at or after ``since``."""
        return sum(1 for e in self._s.security_events if e.at >= since)


class _SyncStates:
    def __init__(self, state: _State) -> None:
        self._s = state

    async def get(self) -> SyncState:
        """Return the current sync state (an empty one before the first cycle)."""
        return self._s.sync_state

    async def save(self, state: SyncState) -> None:
        """Replace the sync state."""
        self._s.sync_state = state
        self._s.writes += 1


class _Deliveries:
    def __init__(self, state: _State) -> None:
        self._s = state

    async def record(self, delivery_id: str, received_at: datetime) -> bool:
        """Remember a delivery; return ``False`` when it had been seen before."""
        if delivery_id in self._s.deliveries:
            return False
        self._s.deliveries[delivery_id] = received_at
        self._s.writes += 1
        return True

    async def purge_before(self, cutoff: datetime) -> int:
        """Forget deliveries older than ``cutoff``; return how many."""
        old = [d for d, at in self._s.deliveries.items() if at < cutoff]
        for delivery_id in old:
            del self._s.deliveries[delivery_id]
        self._s.writes += 1 if old else 0
        return len(old)


class FakeUnitOfWork:
    """One serialised transaction over a copy of the :class:`FakeStore` state."""

    users: UserRepository
    teams: TeamRepository
    memberships: MembershipRepository
    clients: ClientRepository
    runners: RunnerRepository
    audit: AuditRepository
    security_events: SecurityEventRepository
    sync_state: SyncStateRepository
    webhook_deliveries: WebhookDeliveryRepository

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self._state: _State | None = None

    async def __aenter__(self) -> FakeUnitOfWork:
        """Wait for every other unit of work to finish, then begin on a copy of the state."""
        self._store.raise_if_failing()
        await self._store.lock.acquire()
        state = self._store.state.copy()
        self._state = state
        self.users = _Users(state)
        self.teams = _Teams(state)
        self.memberships = _Memberships(state)
        self.clients = _Clients(state)
        self.runners = _Runners(state)
        self.audit = _Audit(state)
        self.security_events = _SecurityEvents(state)
        self.sync_state = _SyncStates(state)
        self.webhook_deliveries = _Deliveries(state)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Swap the copy in when the block succeeded; drop it when it raised."""
        try:
            if exc_type is None and self._state is not None:
                self._store.raise_if_failing()
                self._store.state = self._state
        finally:
            self._state = None
            self._store.lock.release()


class FakeStore:
    """In-memory :class:`gharts_core.ports.storage.Store`, for unit tests of the services.

    ``writes`` counts the committed repository calls that changed something, so tests can check
    that a cycle with nothing to do writes nothing.
    """

    def __init__(self) -> None:
        self.state = _State()
        self.lock = asyncio.Lock()
        self._failure: BaseException | None = None
        self.closed = False

    @property
    def writes(self) -> int:
        """How many committed repository calls changed something."""
        return self.state.writes

    def fail_with(self, error: BaseException | None) -> None:
        """Make every unit of work (and its commit) raise ``error``; ``None`` heals the store."""
        self._failure = error

    def raise_if_failing(self) -> None:
        """Raise the error set by :meth:`fail_with`, if any."""
        if self._failure is not None:
            raise self._failure

    def unit_of_work(self) -> FakeUnitOfWork:
        """Return a new unit of work, to be used with ``async with``."""
        return FakeUnitOfWork(self)

    async def ping(self) -> bool:
        """Return whether the store answers: ``False`` while an outage is simulated."""
        return self._failure is None

    async def close(self) -> None:
        """Mark the store closed (there are no connections to release)."""
        self.closed = True
