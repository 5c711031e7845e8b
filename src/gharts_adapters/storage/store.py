"""The unit of work and the store, built from an ``async_sessionmaker`` (or a URL).

SQLite: every unit of work that may write starts with ``BEGIN IMMEDIATE``, so it holds the
database's single write lock from its first statement and a read-then-write can never be
overtaken by another connection (the busy timeout makes the others wait rather than fail). Within
one process an ``asyncio.Lock`` queues those units of work before they touch a connection, so
waiting costs no busy polling. A read-only unit of work (``unit_of_work(read_only=True)``) starts
with a deferred ``BEGIN`` instead and skips the queue: in WAL mode it reads one consistent
snapshot while writers go on, and it never takes the write lock. PostgreSQL: ordinary READ
COMMITTED transactions; the reservation locks the team row.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from gharts_adapters.storage import _postgres_driver as postgres_driver
from gharts_adapters.storage import _sqlite_driver as sqlite_driver
from gharts_adapters.storage.errors import (
    is_contention,
    is_unavailable,
    refuse_unstorable,
    storable_json,
    translated,
)
from gharts_adapters.storage.repositories import (
    SqlAuditRepository,
    SqlClientRepository,
    SqlDashboardSessionRepository,
    SqlMembershipRepository,
    SqlRunnerRepository,
    SqlSecurityEventRepository,
    SqlSyncStateRepository,
    SqlTeamRepository,
    SqlUserRepository,
    SqlWebhookDeliveryRepository,
)
from gharts_adapters.storage.runner_writes import RunnerWrites, note_runner_statement, take_mark
from gharts_core.errors import StorageUnavailable
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

#: How long a SQLite unit of work waits for the write lock another process holds, and for its
#: turn behind this process's other units of work, before it raises ``StorageUnavailable``.
DEFAULT_SQLITE_BUSY_TIMEOUT = 5.0
#: How long readiness reports the database unusable after a unit of work failed to write.
WRITE_FAILURE_MEMORY = 30.0
# The execution option that marks a read-only unit of work's connection, read by _sqlite_begin.
_READ_ONLY = "gharts_read_only"


def _sqlite_connect(dbapi_connection: Any, _record: object) -> None:
    # Take BEGIN away from the sqlite3 driver (it skips it before SELECT); _sqlite_begin emits it.
    # The busy timeout is sqlite3's own ``timeout`` connect argument (see create_engine).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    read_only = connection.get_execution_options().get(_READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _refuse_unstorable(
    _connection: Connection,
    _cursor: object,
    _statement: str,
    parameters: object,
    _context: object,
    _executemany: bool,
) -> None:
    refuse_unstorable(parameters)


def configure_engine(engine: AsyncEngine) -> AsyncEngine:
    """Install the parameter guard, the runner-write mark and the SQLite hooks (idempotent)."""
    sync_engine = engine.sync_engine
    if not event.contains(sync_engine, "before_cursor_execute", _refuse_unstorable):
        event.listen(sync_engine, "before_cursor_execute", _refuse_unstorable)
    if not event.contains(sync_engine, "after_execute", note_runner_statement):
        event.listen(sync_engine, "after_execute", note_runner_statement)
    if engine.dialect.name == "sqlite" and not event.contains(
        sync_engine, "connect", _sqlite_connect
    ):
        event.listen(sync_engine, "connect", _sqlite_connect)
        event.listen(sync_engine, "begin", _sqlite_begin)
        sqlite_driver.install(sync_engine)
    return engine


def create_engine(
    url: str, *, sqlite_busy_timeout: float = DEFAULT_SQLITE_BUSY_TIMEOUT, **engine_options: Any
) -> AsyncEngine:
    """Return an async engine for ``url`` (``sqlite+aiosqlite`` or ``postgresql+asyncpg``).

    On SQLite, a statement waits at most ``sqlite_busy_timeout`` seconds for a lock another
    connection holds. JSON columns refuse what no database stores (a NUL character).
    """
    if url.startswith("postgresql"):
        # Not pool_pre_ping, three round trips a checkout: this pool replaces a closed one free.
        engine_options.setdefault("poolclass", postgres_driver.ClosedCheckingPool)
    else:
        engine_options.setdefault("connect_args", {}).setdefault("timeout", sqlite_busy_timeout)
    engine_options.setdefault("json_serializer", storable_json)
    return configure_engine(_create_async_engine(url, **engine_options))


class WriteHealth:
    """Whether a unit of work that may write failed for want of the database lately.

    A read-only SQLite file or a full disk lets reads pass while every write fails; readiness
    asks here so that it notices. The mark fades :data:`WRITE_FAILURE_MEMORY` seconds after the
    last failure.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failed_at: float | None = None

    def failed(self) -> None:
        """Record that a write failed now."""
        self._failed_at = self._clock()

    @property
    def failing(self) -> bool:
        """Whether a write failed within the last :data:`WRITE_FAILURE_MEMORY` seconds."""
        return self._failed_at is not None and self._clock() - self._failed_at < (
            WRITE_FAILURE_MEMORY
        )


class SqlUnitOfWork:
    """One database transaction over every repository.

    It holds a Core connection, not an ORM session: the repositories speak SQLAlchemy Core, and
    a session's bookkeeping around its connection cost about 0.3 ms of CPU per JIT request.
    """

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
    #: ``runners`` as what it is, for the statements the port does not name (advance_audited).
    sql_runners: SqlRunnerRepository

    def __init__(
        self,
        engine: AsyncEngine,
        dialect: str,
        lock: asyncio.Lock | None,
        *,
        read_only: bool = False,
        lock_timeout: float = DEFAULT_SQLITE_BUSY_TIMEOUT,
        write_health: WriteHealth | None = None,
        runner_writes: RunnerWrites | None = None,
    ) -> None:
        self._engine = engine
        self._runner_writes = None if read_only else runner_writes
        self._dialect = dialect
        self._write_health = None if read_only else write_health
        # A read-only unit of work never queues behind writers: it takes no write lock.
        self._lock = None if read_only else lock
        self._lock_timeout = lock_timeout
        self._connection: AsyncConnection | None = None
        self._info: dict[Any, Any] = {}

    async def __aenter__(self) -> SqlUnitOfWork:
        """Begin the transaction (and, on SQLite, take the write lock unless read-only)."""
        if self._lock is not None:
            try:
                async with asyncio.timeout(self._lock_timeout):
                    await self._lock.acquire()
            except TimeoutError:
                # The units of work ahead hold the turn (each waits its busy timeout at most).
                raise StorageUnavailable("The database is busy.") from None
        connection: AsyncConnection | None = None
        try:
            with translated():
                connection = await self._engine.connect()
                await connection.begin()
        except BaseException as error:
            self._note_failure(error)
            await self._finish(connection)
            raise
        self._connection = connection
        self._info = connection.info
        take_mark(self._info)  # a mark left by a rolled-back transaction on this connection
        self.users = SqlUserRepository(connection, self._dialect)
        locked_teams: set[uuid.UUID] = set()
        self.teams = SqlTeamRepository(connection, self._dialect, locked_teams)
        self.memberships = SqlMembershipRepository(connection, self._dialect)
        self.clients = SqlClientRepository(connection, self._dialect)
        self.sql_runners = SqlRunnerRepository(connection, self._dialect, locked_teams)
        self.runners = self.sql_runners
        self.audit = SqlAuditRepository(connection, self._dialect)
        self.security_events = SqlSecurityEventRepository(connection, self._dialect)
        self.sync_state = SqlSyncStateRepository(connection, self._dialect)
        self.webhook_deliveries = SqlWebhookDeliveryRepository(connection, self._dialect)
        self.dashboard_sessions = SqlDashboardSessionRepository(connection, self._dialect)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Commit when the block succeeded, roll back when it raised."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        runners_written = take_mark(self._info)
        try:
            if exc_type is None:
                with translated():
                    await connection.commit()
                if runners_written and self._runner_writes is not None:
                    self._runner_writes.publish()
        except StorageUnavailable as error:
            self._note_failure(error)
            raise
        finally:
            await self._finish(connection)
        if exc is not None:
            self._note_failure(exc)

    def _note_failure(self, error: BaseException) -> None:
        """Tell readiness when a write failed for want of the database.

        Not when it waited out other writers: that is the database under load, as configured.
        """
        if (
            self._write_health is not None
            and isinstance(error, StorageUnavailable)
            and not is_contention(error)
        ):
            self._write_health.failed()

    async def _finish(self, connection: AsyncConnection | None) -> None:
        try:
            # Closing rolls back whatever was not committed and returns the connection.
            if connection is not None:
                await asyncio.shield(connection.close())
        except Exception as error:
            if not is_unavailable(error):
                raise
        finally:
            if self._lock is not None:
                self._lock.release()


class SqlStore:
    """The storage port on SQLAlchemy: SQLite (embedded default) or PostgreSQL.

    It is handed an ``async_sessionmaker`` and uses the engine it is bound to (units of work hold
    Core connections, not sessions); :meth:`close` disposes the engine only when the store owns
    it (``owns_engine``, as with :func:`create_store`).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        owns_engine: bool = False,
        ping_timeout: float = 5.0,
        lock_timeout: float = DEFAULT_SQLITE_BUSY_TIMEOUT,
    ) -> None:
        bind = sessions.kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            raise TypeError("the session maker must be bound to an AsyncEngine")
        self.engine = configure_engine(bind)
        # A read-only unit of work connects through a view of the engine whose connections
        # carry the mark _sqlite_begin reads.
        self._read_only_engine = self.engine.execution_options(**{_READ_ONLY: True})
        # PostgreSQL runs a statement that is atomic on its own without BEGIN and COMMIT.
        self._autocommit_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._owns_engine = owns_engine
        self._ping_timeout = ping_timeout
        self._dialect = bind.dialect.name
        self._lock = asyncio.Lock() if self._dialect == "sqlite" else None
        self._lock_timeout = lock_timeout
        self._write_health = WriteHealth()
        #: Published after every commit of this store that changed runners (see runner_writes).
        self.runner_writes = RunnerWrites()

    def unit_of_work(self, *, read_only: bool = False) -> SqlUnitOfWork:
        """Return a new unit of work, to be used with ``async with``.

        ``read_only=True`` promises that the block only reads: on SQLite it then begins with a
        deferred ``BEGIN``, never waiting for or taking the write lock.
        """
        return self._unit_of_work(self._read_only_engine if read_only else self.engine, read_only)

    def _unit_of_work(self, engine: AsyncEngine, read_only: bool) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            engine,
            self._dialect,
            self._lock,
            read_only=read_only,
            lock_timeout=self._lock_timeout,
            write_health=self._write_health,
            runner_writes=self.runner_writes,
        )

    async def advance_runner(
        self,
        before: RunnerRecord,
        after: RunnerRecord,
        transition: RunnerTransition,
        audit: AuditEvent,
    ) -> bool:
        """Move one runner and audit the move, committed at once; return whether it moved.

        PostgreSQL: one statement in autocommit (``advance_audited``), one round trip where a
        transaction of its own took four (``BEGIN``, two statements, ``COMMIT``). SQLite: a unit
        of work as any other; its statements never leave the process.
        """
        if self._dialect == "postgresql":
            async with self._unit_of_work(self._autocommit_engine, False) as uow:
                return await uow.sql_runners.advance_audited(before, after, transition, audit)
        async with self.unit_of_work() as uow:
            moved = await uow.runners.advance(before, after, transition)
            if moved:
                await uow.audit.append(audit)
            return moved

    async def ping(self) -> bool:
        """Return whether the migrated schema answers a query within the ping timeout.

        It does not while writes fail (a read-only file, a full disk): see :class:`WriteHealth`.
        """
        if self._write_health.failing:
            return False
        try:
            async with (
                asyncio.timeout(self._ping_timeout),
                self.unit_of_work(read_only=True) as uow,
            ):
                await uow.sync_state.get()
        except Exception:  # a probe reports "not ready" whatever the failure, it never crashes
            return False
        return True

    async def close(self) -> None:
        """Release the connections (dispose the engine if this store created it)."""
        if self._owns_engine:
            await self.engine.dispose()


def create_store(
    url: str, *, sqlite_busy_timeout: float = DEFAULT_SQLITE_BUSY_TIMEOUT, **engine_options: Any
) -> SqlStore:
    """Return a store that owns a new engine for ``url``; the schema must be migrated already.

    Use a SQLite *file* (``sqlite+aiosqlite:///path/gharts.db``): every connection to
    ``:memory:`` is a separate, empty database that :func:`upgrade` cannot reach. On SQLite a
    unit of work waits at most about ``sqlite_busy_timeout`` seconds for its turn in this process
    and as long again for the lock of another process, then raises ``StorageUnavailable``.
    """
    engine = create_engine(url, sqlite_busy_timeout=sqlite_busy_timeout, **engine_options)
    return SqlStore(
        async_sessionmaker(engine, expire_on_commit=False),
        owns_engine=True,
        lock_timeout=sqlite_busy_timeout,
    )
