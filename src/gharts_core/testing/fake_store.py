"""An in-memory :class:`gharts_core.ports.storage.Store` that behaves like the SQL adapter.

One :class:`asyncio.Lock` is held for the whole unit of work, which works on a copy of the state
that is swapped in only when the block exits normally: units of work are serialisable
transactions, exactly as the contract suite checks for the real databases. The repositories are
grouped as the SQL adapter's are: ``_fake_people``, ``_fake_runners`` and ``_fake_events``, over
the state in ``_fake_state``.

Use it in unit tests::

    store = FakeStore()
    async with store.unit_of_work() as uow:
        await uow.teams.add(team)

    store.fail_with(StorageUnavailable())  # every unit of work now raises it
    store.fail_with(None)                  # back to normal
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from gharts_core.model import AuditEvent, RunnerRecord, RunnerTransition
from gharts_core.ports.storage import (
    AuditRepository,
    ClientRepository,
    DashboardSessionRepository,
    MembershipRepository,
    RunnerRepository,
    SecurityEventRepository,
    SyncStateRepository,
    TeamRepository,
    UserRepository,
    WebhookDeliveryRepository,
)
from gharts_core.testing._fake_events import (
    FakeAuditRepository,
    FakeSecurityEventRepository,
    FakeSyncStateRepository,
    FakeWebhookDeliveryRepository,
)
from gharts_core.testing._fake_people import (
    FakeClientRepository,
    FakeMembershipRepository,
    FakeTeamRepository,
    FakeUserRepository,
)
from gharts_core.testing._fake_runners import FakeRunnerRepository
from gharts_core.testing._fake_sessions import FakeDashboardSessionRepository
from gharts_core.testing._fake_state import FakeState

__all__ = ["FakeStore"]


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
    dashboard_sessions: DashboardSessionRepository

    def __init__(self, store: FakeStore, *, read_only: bool = False) -> None:
        self._store = store
        self._read_only = read_only
        self._state: FakeState | None = None
        self._writes_at_start = 0

    async def __aenter__(self) -> FakeUnitOfWork:
        """Wait for every other writing unit of work to finish, then begin on a copy of the state.

        A read-only unit of work waits for nobody: it reads the committed state as it was.
        """
        self._store.raise_if_failing()
        if not self._read_only:
            await self._store.lock.acquire()
        state = self._store.state.copy()
        self._state = state
        self._writes_at_start = state.writes
        self.users = FakeUserRepository(state)
        self.teams = FakeTeamRepository(state)
        self.memberships = FakeMembershipRepository(state)
        self.clients = FakeClientRepository(state)
        self.runners = FakeRunnerRepository(state)
        self.audit = FakeAuditRepository(state)
        self.security_events = FakeSecurityEventRepository(state)
        self.sync_state = FakeSyncStateRepository(state)
        self.webhook_deliveries = FakeWebhookDeliveryRepository(state)
        self.dashboard_sessions = FakeDashboardSessionRepository(state)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Swap the copy in when the block succeeded; drop it when it raised.

        Raise ``RuntimeError`` when a read-only unit of work changed something: that is a bug.
        """
        try:
            if exc_type is None and self._state is not None:
                self._store.raise_if_failing()
                if self._read_only:
                    if self._state.writes != self._writes_at_start:
                        raise RuntimeError("a read-only unit of work wrote to the store")
                else:
                    self._store.state = self._state
        finally:
            self._state = None
            if not self._read_only:
                self._store.lock.release()


class FakeStore:
    """In-memory :class:`gharts_core.ports.storage.Store`, for unit tests of the services.

    ``writes`` counts the committed repository calls that changed something, so tests can check
    that a cycle with nothing to do writes nothing.
    """

    def __init__(self) -> None:
        self.state = FakeState()
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

    def unit_of_work(self, *, read_only: bool = False) -> FakeUnitOfWork:
        """Return a new unit of work, to be used with ``async with`` (see the port's contract)."""
        return FakeUnitOfWork(self, read_only=read_only)

    async def advance_runner(
        self,
        before: RunnerRecord,
        after: RunnerRecord,
        transition: RunnerTransition,
        audit: AuditEvent,
    ) -> bool:
        """Move the runner and append ``audit`` when it moved, in one unit of work."""
        async with self.unit_of_work() as uow:
            moved = await uow.runners.advance(before, after, transition)
            if moved:
                await uow.audit.append(audit)
            return moved

    async def ping(self) -> bool:
        """Return whether the store answers: ``False`` while an outage is simulated."""
        return self._failure is None

    async def close(self) -> None:
        """Mark the store closed (there are no connections to release)."""
        self.closed = True
