"""The storage port: a unit of work with one repository per aggregate.

Use it as ``async with store.unit_of_work() as uow: ...``: the block is one transaction, committed
when it exits normally and rolled back when it raises. Never await another port (GitHub, identity)
inside a unit of work: provisioning reserves, commits, calls GitHub, then binds in a second unit.

Implementations raise :class:`gharts_core.errors.StorageUnavailable` when the database cannot be
reached and :class:`gharts_core.errors.Conflict` when a uniqueness rule is broken. Audit and
security-event repositories are append-only: they offer no update or delete, only the retention
purge.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Generic, Protocol, TypeVar

import attrs

from gharts_core.model import (
    AuditEvent,
    AuditOutcome,
    MachineClient,
    RunnerRecord,
    RunnerStatus,
    RunnerTransition,
    SecurityEvent,
    SecurityEventType,
    Severity,
    SyncState,
    Team,
    User,
)
from gharts_core.ports.github import ListedPage

T = TypeVar("T")

MAX_PAGE_SIZE = 500


def _limit(_instance: object, _attribute: object, value: int) -> None:
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")


def _offset(_instance: object, _attribute: object, value: int) -> None:
    if value < 0:
        raise ValueError("offset must not be negative")


@attrs.frozen
class Page:
    """Which slice of a filtered, ordered list to return."""

    limit: int = attrs.field(default=50, validator=_limit)
    offset: int = attrs.field(default=0, validator=_offset)


@attrs.frozen
class PageResult(Generic[T]):
    """One page of items and the total number matching the filter."""

    items: tuple[T, ...]
    total: int


@attrs.frozen
class RunnerFilter:
    """Runner list filters; ``team_ids=None`` means every team (admins), empty means none.

    Results are ordered newest first (``created_at`` descending, then ``id``).
    """

    team_ids: frozenset[uuid.UUID] | None = None
    status: RunnerStatus | None = None
    team_name: str | None = None
    label: str | None = None
    include_deleted: bool = True


@attrs.frozen
class UserFilter:
    """User list filters; ordered by email."""

    email: str | None = None  # substring, case-insensitive
    is_admin: bool | None = None
    is_active: bool | None = None
    team_id: uuid.UUID | None = None


@attrs.frozen
class TeamFilter:
    """Team list filters; ordered by name. ``team_ids=None`` means every team."""

    team_ids: frozenset[uuid.UUID] | None = None
    is_active: bool | None = None


@attrs.frozen
class ClientFilter:
    """Machine-client list filters; ordered by creation time."""

    team_id: uuid.UUID | None = None
    issuer: str | None = None
    is_active: bool | None = None


@attrs.frozen
class AuditFilter:
    """Audit log filters; newest first. ``since`` inclusive, ``until`` exclusive."""

    actor: str | None = None  # actor name, exact
    action: str | None = None
    team_id: uuid.UUID | None = None
    target_id: str | None = None
    outcome: AuditOutcome | None = None
    since: datetime | None = None
    until: datetime | None = None


@attrs.frozen
class SecurityEventFilter:
    """Security event filters; newest first. ``since`` inclusive, ``until`` exclusive."""

    type: SecurityEventType | None = None
    severity: Severity | None = None
    team_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


class UserRepository(Protocol):
    """People who may call gharts."""

    async def get(self, user_id: uuid.UUID) -> User | None:
        """Return the user with this id, or ``None``."""
        ...

    async def get_by_subject(self, issuer: str, subject: str) -> User | None:
        """Return the user bound to this (issuer, subject), or ``None``."""
        ...

    async def get_by_email(self, email: str) -> User | None:
        """Return the user with this email (case-insensitive), or ``None``."""
        ...

    async def add(self, user: User) -> None:
        """Insert a new user; raise ``Conflict`` when the email or binding is taken."""
        ...

    async def update(self, user: User) -> None:
        """Replace the stored user with the same id; raise ``Conflict`` on a taken email."""
        ...

    async def bind_identity(
        self, user: User, issuer: str, subject: str, at: datetime
    ) -> User | None:
        """Bind ``user`` to (issuer, subject) if it is still bound to nobody; return it bound.

        Return ``None`` when the row is bound already (another first login came first) or gone: the
        check and the write are one statement, so two logins racing for one row never both
        bind it. Raise ``Conflict`` when another user is bound to that (issuer, subject).
        """
        ...

    async def list(self, query: UserFilter, page: Page) -> PageResult[User]:
        """Return one page of users matching the filter."""
        ...

    async def count_active_admins(self) -> int:
        """Return how many active users are admins.

        The rows counted stay locked until the unit of work ends, so the last-admin guard holds
        when two admins demote each other concurrently.
        """
        ...


class TeamRepository(Protocol):
    """Teams and their policies."""

    async def get(self, team_id: uuid.UUID, *, for_update: bool = False) -> Team | None:
        """Return the team with this id, or ``None``.

        ``for_update``: a runner of this team is about to be reserved in this unit of work, so
        lock the row until it ends where the database locks rows; :meth:`RunnerRepository.reserve`
        then needs no lock of its own.
        """
        ...

    async def get_by_name(self, name: str, *, for_update: bool = False) -> Team | None:
        """Return the team with this name, or ``None`` (``for_update`` as in :meth:`get`)."""
        ...

    async def add(self, team: Team) -> None:
        """Insert a new team; raise ``Conflict`` when the name is taken."""
        ...

    async def update(self, team: Team) -> None:
        """Replace the stored team with the same id."""
        ...

    async def list(self, query: TeamFilter, page: Page) -> PageResult[Team]:
        """Return one page of teams matching the filter."""
        ...


class MembershipRepository(Protocol):
    """Which users belong to which teams."""

    async def add(self, team_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """Add a membership; return ``False`` when it already existed."""
        ...

    async def remove(self, team_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """Remove a membership; return ``False`` when there was none."""
        ...

    async def team_ids_of(self, user_id: uuid.UUID) -> frozenset[uuid.UUID]:
        """Return the ids of every team the user belongs to (active or not)."""
        ...

    async def members_of(self, team_id: uuid.UUID) -> Sequence[User]:
        """Return the team's members ordered by email."""
        ...


class ClientRepository(Protocol):
    """Machine clients: (issuer, subject) bound to one team."""

    async def get(self, client_id: uuid.UUID) -> MachineClient | None:
        """Return the client with this id, or ``None``."""
        ...

    async def get_active(self, issuer: str, subject: str) -> MachineClient | None:
        """Return the active client for this (issuer, subject), or ``None``."""
        ...

    async def add(self, client: MachineClient) -> None:
        """Insert a client; raise ``Conflict`` when an active one has the same (issuer, subject)."""
        ...

    async def update(self, client: MachineClient) -> None:
        """Replace the stored client; raise ``Conflict`` when enabling would make two active."""
        ...

    async def list(self, query: ClientFilter, page: Page) -> PageResult[MachineClient]:
        """Return one page of clients matching the filter."""
        ...


class RunnerRepository(Protocol):
    """Runner records and their transitions."""

    async def reserve(self, runner: RunnerRecord, max_runners: int | None) -> None:
        """Insert a ``provisioning`` record if the team has room, atomically.

        Counts the team's live runners and inserts in one step that no concurrent reservation can
        interleave with. Raise ``QuotaExceeded`` when the team already has ``max_runners`` live
        runners (``None`` means unlimited) and ``Conflict`` when a live runner has the same name.
        Records the first transition (``None`` -> ``provisioning``, source ``api``).
        """
        ...

    async def get(self, runner_id: uuid.UUID) -> RunnerRecord | None:
        """Return the runner with this id (deleted ones too), or ``None``."""
        ...

    async def save(self, runner: RunnerRecord, transition: RunnerTransition | None = None) -> None:
        """Replace the stored record with the same id, and record the transition if one is given.

        Raise ``RunnerNotFound`` when there is no such record.
        """
        ...

    async def advance(
        self,
        before: RunnerRecord,
        after: RunnerRecord,
        transition: RunnerTransition | None = None,
    ) -> bool:
        """Write ``after`` only if the stored runner's status is still ``before.status``.

        A compare-and-set for callers that know what they read (``before``) without reading it
        again: only the fields in which ``after`` differs from ``before`` are written, and the
        transition is recorded only when the write happened. Return ``False`` (and write nothing)
        when the runner is missing or someone moved it meanwhile. Raise ``Conflict`` when the
        write would give two live runners one name.
        """
        ...

    async def list(self, query: RunnerFilter, page: Page) -> PageResult[RunnerRecord]:
        """Return one page of runners matching the filter, filtered and paged by the store."""
        ...

    async def list_live(self) -> Sequence[RunnerRecord]:
        """Return every runner not ``deleted`` (the sync worker's input)."""
        ...

    async def find_live(
        self, *, github_runner_id: int | None = None, name: str | None = None
    ) -> Sequence[RunnerRecord]:
        """Return live runners with this GitHub id or this name, oldest first.

        Provisioning stores names in lower case (GitHub compares names case-insensitively), so
        ``name`` is lower-cased and matched exactly. The webhook's lookup, indexed by GitHub id
        and by live name; with neither argument it returns nothing.
        """
        ...

    async def count_live(self, team_id: uuid.UUID) -> int:
        """Return how many of the team's runners count towards its quota."""
        ...

    async def count_by_team_and_status(self) -> dict[tuple[str, RunnerStatus], int]:
        """Return runner counts keyed by (team name, status), deleted excluded."""
        ...

    async def transitions(self, runner_id: uuid.UUID) -> Sequence[RunnerTransition]:
        """Return the runner's recorded transitions, oldest first."""
        ...


class AuditRepository(Protocol):
    """The append-only audit log."""

    async def append(self, event: AuditEvent) -> None:
        """Add one audit row."""
        ...

    async def list(self, query: AuditFilter, page: Page) -> PageResult[AuditEvent]:
        """Return one page of audit rows matching the filter, newest first."""
        ...

    async def newest(self, query: AuditFilter, limit: int) -> Sequence[AuditEvent]:
        """Return at most ``limit`` rows matching the filter, newest first, without a count.

        One statement however many rows, for readers that need every recent row (the policy
        impact preview) rather than one page of them.
        """
        ...

    async def purge_before(self, cutoff: datetime) -> int:
        """Delete rows older than ``cutoff`` (retention); return how many."""
        ...


class SecurityEventRepository(Protocol):
    """The append-only security event log."""

    async def append(self, event: SecurityEvent) -> None:
        """Add one security event."""
        ...

    async def list(self, query: SecurityEventFilter, page: Page) -> PageResult[SecurityEvent]:
        """Return one page of security events matching the filter, newest first."""
        ...

    async def count_since(self, since: datetime) -> int:
        """Return how many security events happened at or after ``since``."""
        ...


class SyncStateRepository(Protocol):
    """The worker's shared state."""

    async def get(self) -> SyncState:
        """Return the current sync state (an empty one before the first cycle)."""
        ...

    async def save(self, state: SyncState) -> None:
        """Replace the sync state."""
        ...

    async def listed_pages(self) -> Sequence[ListedPage]:
        """Return the runner listing's pages as the last cycle kept them, in listing order."""
        ...

    async def save_listed_pages(self, pages: Sequence[ListedPage]) -> int:
        """Keep exactly ``pages``: write those new or changed (by ETag), drop the others.

        Return how many rows were written or dropped, so an unchanged listing costs nothing.
        """
        ...


class WebhookDeliveryRepository(Protocol):
    """Seen ``X-GitHub-Delivery`` ids, for de-duplication."""

    async def seen(self, delivery_id: str) -> bool:
        """Return whether the delivery has been recorded (its effects are done)."""
        ...

    async def record(self, delivery_id: str, received_at: datetime) -> bool:
        """Remember a delivery; return ``False`` when it had been seen before."""
        ...

    async def purge_before(self, cutoff: datetime) -> int:
        """Forget deliveries older than ``cutoff``; return how many."""
        ...


@attrs.frozen(kw_only=True)
class DashboardSession:
    """A person's login to the web dashboard, stored server-side.

    ``key`` is a digest of the cookie's secret value (the cookie itself is never stored), so a
    copy of the table lets nobody in. ``issuer`` and ``subject`` are the identity that logged in.
    """

    key: str
    user_id: uuid.UUID
    issuer: str
    subject: str
    created_at: datetime
    expires_at: datetime


class DashboardSessionRepository(Protocol):
    """Dashboard logins: created at login, ended by logout or expiry."""

    async def add(self, session: DashboardSession) -> None:
        """Insert a session; raise ``Conflict`` when the key is taken."""
        ...

    async def get(self, key: str) -> DashboardSession | None:
        """Return the session with this key, or ``None`` (expired ones too)."""
        ...

    async def delete(self, key: str) -> bool:
        """End one session; return ``False`` when there was none."""
        ...

    async def delete_for_user(self, user_id: uuid.UUID) -> int:
        """End every session of a user; return how many."""
        ...

    async def purge_expired(self, now: datetime) -> int:
        """Forget sessions whose ``expires_at`` is at or before ``now``; return how many."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository."""

    users: UserRepository
    teams: TeamRepository
    memberships: MembershipRepository
    clients: ClientRepository
    runners: RunnerRepository
    audit: AuditRepository
    security_events: SecurityEventRepository
    sync_state: SyncStateRepository
    webhook_deliveries: WebhookDeliveryRepository
    dashboard_sessions: DashboardSessionRepository

    async def __aenter__(self) -> UnitOfWork:
        """Begin the transaction."""
        ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Commit when the block succeeded, roll back when it raised."""
        ...


class Store(Protocol):
    """A database: hands out units of work, and runs the hot path's one write on its own."""

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """Return a new unit of work, to be used with ``async with``.

        ``read_only=True`` promises the block writes nothing: the store may then serve it without
        its write lock (SQLite's deferred ``BEGIN``), so lookups never queue behind writers. A
        write inside a read-only unit of work is a bug; the fake raises ``RuntimeError`` for it.
        """
        ...

    async def advance_runner(
        self,
        before: RunnerRecord,
        after: RunnerRecord,
        transition: RunnerTransition,
        audit: AuditEvent,
    ) -> bool:
        """Move one runner and audit the move, as a transaction of its own; return whether it moved.

        The compare-and-set of :meth:`RunnerRepository.advance` (``after`` is written only if
        the stored status is still ``before.status``), with ``transition`` and ``audit`` recorded
        exactly when it wrote, all committed before it returns. Provisioning's bind, the one write
        of every request, needs nothing more: a store may run it as a single statement without a
        transaction around it (PostgreSQL: one round trip instead of four).
        """
        ...

    async def ping(self) -> bool:
        """Return whether the database answers (for ``/readyz``)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
