"""Which process runs the sync cycles: one at a time.

PostgreSQL: a session advisory lock (:data:`SYNC_LOCK_KEY`) held on a connection of its own, not
one of the store's pool. It is released on shutdown and lost with the connection, so a crashed
or cut-off leader frees it for another replica; a leader checks its connection before every cycle
and steps down when it is gone, and :meth:`Leadership.holds` checks it again before each action
of a cycle (the fence that keeps a leader cut off mid-cycle from writing beside its successor).
The same connection ``LISTEN``s on :data:`WAKE_CHANNEL`: a process that cannot lead asks the
leader for an early cycle with ``NOTIFY``.

SQLite: the worker is single-process, so :class:`SingleProcessLeadership` always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import structlog
from sqlalchemy import NullPool, text
from sqlalchemy.ext.asyncio import AsyncConnection

from gharts_adapters.storage import create_engine
from gharts_core.errors import StorageUnavailable

SYNC_LOCK_KEY = 0x67686172  # "ghar": below 2**32, so pg_locks shows it as classid 0, objid KEY
WAKE_CHANNEL = "gharts_sync"
WORKER_APPLICATION = "gharts-worker"
TRIGGER_APPLICATION = "gharts-trigger"
CONNECT_TIMEOUT_SECONDS = 10.0

_log = structlog.get_logger("gharts.worker")

_HOLDER = text(
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.database = "
    "(SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND l.classid = 0 AND l.objid = :key AND l.objsubid = 1 AND l.granted"
)


def instance_name(role: str = "worker") -> str:
    """Return a name for this process's worker: host, pid and a random suffix."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Leadership(Protocol):
    """The right to run sync cycles, held by at most one process at a time."""

    name: str

    async def acquire(self) -> bool:
        """Take leadership, or confirm it is still held; return whether this process leads.

        Raise :class:`~gharts_core.errors.StorageUnavailable` when the database cannot be asked.
        """
        ...

    async def holds(self) -> bool:
        """Return whether this process still leads, asking the database; never raise.

        A ``False`` answer means leadership is gone: the caller stops writing.
        """
        ...

    async def request_cycle(self) -> bool:
        """Ask the worker that leads elsewhere for an early cycle; return whether one was asked."""
        ...

    def on_request(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` when another process asks this leader for an early cycle."""
        ...

    async def release(self) -> None:
        """Give leadership up and close what holds it (``acquire`` may take it again)."""
        ...


class SingleProcessLeadership:
    """SQLite: the only worker leads; there is nobody else to ask."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or instance_name()

    async def acquire(self) -> bool:
        """Lead: no other process can."""
        return True

    async def holds(self) -> bool:
        """Still lead: no other process can."""
        return True

    async def request_cycle(self) -> bool:
        """No other process can lead, so nobody is asked."""
        return False

    def on_request(self, callback: Callable[[], object]) -> None:
        """Nothing to listen to: requests come through the in-process flag."""
        del callback

    async def release(self) -> None:
        """Nothing is held."""


class AdvisoryLockLeadership:
    """PostgreSQL: a session advisory lock on a dedicated connection (see the module docstring).

    ``application_name`` marks the connection in ``pg_stat_activity``: a trigger that cannot
    lead asks for a cycle only when a worker (:data:`WORKER_APPLICATION`) holds the lock.
    """

    def __init__(
        self,
        url: str,
        *,
        name: str | None = None,
        application_name: str = WORKER_APPLICATION,
        timeout: float = CONNECT_TIMEOUT_SECONDS,
    ) -> None:
        self.name = name or instance_name()
        self._engine = create_engine(
            url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={"server_settings": {"application_name": application_name}},
        )
        self._timeout = timeout
        self._connection: AsyncConnection | None = None
        self._backend_pid: int | None = None
        self._callback: Callable[[], object] | None = None
        self._leading = False
        self._sitting_out = False

    @property
    def backend_pid(self) -> int | None:
        """The server process id of the dedicated connection, while it is open."""
        return self._backend_pid

    async def acquire(self) -> bool:
        """Confirm the held lock with ``SELECT 1``, or try to take it (reconnecting if needed).

        A leader whose connection is gone steps down and sits out one round, so that another
        worker, retrying every interval, takes over before it tries again.
        """
        if self._sitting_out:
            self._sitting_out = False
            return False
        try:
            async with asyncio.timeout(self._timeout):
                if self._connection is not None:
                    try:
                        return await self._check_or_try(self._connection)
                    except Exception as error:  # the connection is gone
                        was_leading = self._leading
                        await self._discard(error)
                        if was_leading:
                            self._sitting_out = True
                            return False
                connection = await self._connect()
                return await self._check_or_try(connection)
        except Exception as error:
            await self._discard(error)
            raise StorageUnavailable() from error

    async def holds(self) -> bool:
        """Confirm the lock with ``SELECT 1`` on its connection; a dead one loses leadership.

        The session holding the advisory lock answering means the lock is still ours. A leader
        that finds its connection gone steps down and sits out the next round, as in
        :meth:`acquire`.
        """
        connection = self._connection
        if not self._leading or connection is None:
            return False
        try:
            async with asyncio.timeout(self._timeout):
                await connection.execute(text("SELECT 1"))
        except Exception as error:
            await self._discard(error)
            self._sitting_out = True
            return False
        return True

    async def request_cycle(self) -> bool:
        """``NOTIFY`` the channel when a worker holds the lock; return whether one does."""
        try:
            async with asyncio.timeout(self._timeout):
                connection = self._connection or await self._connect()
                holders = (await connection.execute(_HOLDER, {"key": SYNC_LOCK_KEY})).scalars()
                if WORKER_APPLICATION not in set(holders):
                    return False
                await connection.execute(text(f"NOTIFY {WAKE_CHANNEL}"))
        except Exception as error:
            await self._discard(error)
            raise StorageUnavailable() from error
        return True

    def on_request(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` on notifications from other sessions, while this process leads."""
        self._callback = callback

    async def release(self) -> None:
        """Unlock, close the connection and dispose of the engine; never raise."""
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self._timeout):
                    if self._leading:
                        await connection.execute(
                            text("SELECT pg_advisory_unlock(:key)"), {"key": SYNC_LOCK_KEY}
                        )
                    await connection.close()
        self._leading = False
        self._backend_pid = None
        with contextlib.suppress(Exception):
            await self._engine.dispose()

    async def _check_or_try(self, connection: AsyncConnection) -> bool:
        if self._leading:
            await connection.execute(text("SELECT 1"))
            return True
        statement = text("SELECT pg_try_advisory_lock(:key)")
        self._leading = bool(await connection.scalar(statement, {"key": SYNC_LOCK_KEY}))
        return self._leading

    async def _connect(self) -> AsyncConnection:
        connection = await self._engine.connect()
        try:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            self._backend_pid = int(driver.get_server_pid())
            await driver.add_listener(WAKE_CHANNEL, self._notified)
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        return connection

    def _notified(self, _connection: object, pid: int, _channel: str, _payload: str) -> None:
        # Only the leader answers: a non-leader woken up would just forward the request again.
        if pid != self._backend_pid and self._leading and self._callback is not None:
            self._callback()

    async def _discard(self, error: BaseException) -> None:
        """Forget a broken connection; leadership went with it."""
        if self._leading:
            _log.warning("sync_leadership_lost", worker=self.name, error=repr(error))
        self._leading = False
        self._backend_pid = None
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()
            with contextlib.suppress(Exception):
                await connection.close()


def leadership_for(
    url: str, *, name: str | None = None, application_name: str = WORKER_APPLICATION
) -> Leadership:
    """Return the leadership that fits the database at ``url``."""
    if url.startswith("postgresql"):
        return AdvisoryLockLeadership(url, name=name, application_name=application_name)
    return SingleProcessLeadership(name)
