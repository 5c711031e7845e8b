"""SQLite connections called on the event loop's own thread, behind aiosqlite's async face.

SQLAlchemy's ``sqlite+aiosqlite`` dialect drives an aiosqlite connection, which runs every SQLite
call on a thread of its own and hands each result back with ``loop.call_soon_threadsafe``.
Handing the calls between two threads under one GIL took a quarter of a JIT request's CPU, more
than SQLite's own work in them (about a seventh). The connections opened here keep
the async face SQLAlchemy's dialect awaits but call ``sqlite3`` directly on the loop's thread, so
a statement that finds the database free costs no hand-off at all.

What must not block the loop is waiting for a lock. Within one process the store's
``asyncio.Lock`` already queues the units of work that may write, so a connection only meets a
held lock when another *process* holds it (a worker, ``gharts sync --once``, a migration). So
SQLite's own busy handler is off (``timeout=0``) and a statement refused with ``SQLITE_BUSY`` is
retried after an ``asyncio.sleep`` of 1 ms, then every 2 ms, until the busy timeout the engine
was given has passed; then the ``database is locked`` error goes up as before. SQLite's own
schedule backs off to 100 ms, so against a process that holds the lock in short bursts with
short gaps it rarely tries in a gap: with the lock held 20 ms of every 25, JIT requests at 8
connections got 4 a second and timed out; polling every 2 ms gets 49 a second, none failing
(one waiter per process polls, behind the store's queue: a failed ``BEGIN IMMEDIATE`` costs
microseconds). Retrying the refused statement is what SQLite's busy handler does too: a refused
``BEGIN IMMEDIATE`` has begun nothing, a refused read took no snapshot, a refused ``COMMIT``
keeps its transaction open.
``SQLITE_BUSY_SNAPSHOT`` is never retried (only a new transaction can succeed), and SQLite does
not call its busy handler for it either.

What does run on the loop now is SQLite's own work: a page read from disk, the fsync of a WAL
checkpoint (one per 1,000 pages written). Those took the GIL-free part of a call on aiosqlite's
thread, and are milliseconds at worst.

:func:`install` makes an engine's pool open its connections this way.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine

T = TypeVar("T")

__all__ = ["LoopThreadConnection", "LoopThreadCursor", "install"]

#: The sleeps (ms) between tries while another process holds the lock; the last one repeats.
_BACK_OFF_MS = (1, 2)


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code: int | None = getattr(error, "sqlite_errorcode", None)
    if code is None:  # an error raised by the sqlite3 module itself, not by SQLite
        return False
    return code & 0xFF == sqlite3.SQLITE_BUSY and code != sqlite3.SQLITE_BUSY_SNAPSHOT


class LoopThreadCursor:
    """A ``sqlite3`` cursor with the awaitable methods of an aiosqlite cursor."""

    arraysize = 1

    def __init__(self, connection: LoopThreadConnection) -> None:
        self._connection = connection
        self._cursor: sqlite3.Cursor | None = None

    async def __aenter__(self) -> LoopThreadCursor:
        """Return the cursor (SQLAlchemy enters every cursor it makes)."""
        return self

    async def __aexit__(self, *_exc: object) -> None:
        """Close the cursor."""
        await self.close()

    def _sqlite_cursor(self) -> sqlite3.Cursor:
        if self._cursor is None:
            self._cursor = self._connection.sqlite.cursor()
        return self._cursor

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> LoopThreadCursor:
        """Execute one statement, waiting without blocking while another process holds a lock."""
        cursor = self._sqlite_cursor()
        await self._connection.patiently(
            cursor.execute, sql, () if parameters is None else parameters
        )
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> LoopThreadCursor:
        """Execute one statement for each parameter set."""
        # A list, so that a retry after SQLITE_BUSY sees every parameter set again.
        await self._connection.patiently(self._sqlite_cursor().executemany, sql, list(parameters))
        return self

    async def fetchall(self) -> list[Any]:
        """Return the remaining rows."""
        return [] if self._cursor is None else self._cursor.fetchall()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """Return up to ``size`` more rows."""
        if self._cursor is None:
            return []
        return self._cursor.fetchmany(self.arraysize if size is None else size)

    async def fetchone(self) -> Any:
        """Return the next row, or ``None``."""
        return None if self._cursor is None else self._cursor.fetchone()

    async def close(self) -> None:
        """Close the cursor."""
        if self._cursor is not None:
            self._cursor.close()

    @property
    def description(self) -> Any:
        """The columns of the last query (``None`` after a statement that returns no rows)."""
        return None if self._cursor is None else self._cursor.description

    @property
    def rowcount(self) -> int:
        """The rows the last statement changed."""
        return -1 if self._cursor is None else self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        """The rowid of the last inserted row."""
        return None if self._cursor is None else self._cursor.lastrowid


class _DoneAtOnce:
    """aiosqlite's request queue, as SQLAlchemy's ``isolation_level`` setter uses it.

    The ``(future, function)`` put on it is run at once, on this thread.
    """

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # handed to whoever awaits the future, as aiosqlite does
            future.set_exception(error)


class LoopThreadConnection:
    """A ``sqlite3`` connection with the awaitable methods of an aiosqlite connection.

    Await it to open it. ``busy_timeout`` is how long a statement keeps retrying while another
    process holds the lock it needs.
    """

    _tx = _DoneAtOnce()

    def __init__(self, database: str, busy_timeout: float, **connect_args: Any) -> None:
        self._database = database
        self._busy_timeout = busy_timeout
        # check_same_thread off (SQLAlchemy asks for it too): a pool may close a connection from
        # another thread (a finalizer); nothing ever uses one from two threads at once.
        self._connect_args = {"check_same_thread": False, **connect_args}
        self._connection: sqlite3.Connection | None = None

    def __await__(self) -> Any:
        return self._open().__await__()

    async def _open(self) -> LoopThreadConnection:
        self._connection = sqlite3.connect(self._database, timeout=0, **self._connect_args)
        return self

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The open ``sqlite3`` connection."""
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    # SQLAlchemy's isolation_level setter reaches for aiosqlite's private name of it.
    _conn = sqlite

    async def patiently(self, function: Callable[..., T], *args: Any) -> T:
        """Call ``function(*args)``; while SQLite answers ``SQLITE_BUSY``, sleep and call again."""
        deadline: float | None = None
        attempt = 0
        while True:
            try:
                return function(*args)
            except sqlite3.OperationalError as error:
                if not _is_busy(error):
                    raise
                now = time.monotonic()
                deadline = now + self._busy_timeout if deadline is None else deadline
                if now >= deadline:
                    raise
                pause = _BACK_OFF_MS[min(attempt, len(_BACK_OFF_MS) - 1)] / 1000
                attempt += 1
                await asyncio.sleep(min(pause, deadline - now))

    @property
    def isolation_level(self) -> str | None:
        """The ``sqlite3`` module's transaction mode (``None``: the store emits ``BEGIN``)."""
        return self.sqlite.isolation_level

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open."""
        return self._connection is not None and self._connection.in_transaction

    def cursor(self) -> LoopThreadCursor:
        """Return a new cursor."""
        return LoopThreadCursor(self)

    async def commit(self) -> None:
        """Commit the open transaction, if any."""
        await self.patiently(self.sqlite.commit)

    async def rollback(self) -> None:
        """Roll back the open transaction, if any."""
        if self.in_transaction:
            self.sqlite.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        """Register a Python function for SQL (``sqlite3.Connection.create_function``)."""
        self.sqlite.create_function(*args, **kwargs)

    async def close(self) -> None:
        """Close the connection (a second close does nothing)."""
        self.stop()

    def stop(self) -> None:
        """Close the connection at once (SQLAlchemy's terminate)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


def _connect(database: str, *, timeout: float = 5.0, **kwargs: Any) -> LoopThreadConnection:
    """Return an unopened connection; ``timeout`` is the busy timeout, as for ``sqlite3``."""
    return LoopThreadConnection(database, timeout, **kwargs)


def _do_connect(dialect: Dialect, _record: object, cargs: Any, cparams: Any) -> Any:
    dbapi: Any = dialect.dbapi
    return dbapi.connect(*cargs, async_creator_fn=_connect, **cparams)


def install(sync_engine: Engine) -> None:
    """Make ``sync_engine`` (an aiosqlite engine) open :class:`LoopThreadConnection` s."""
    if not event.contains(sync_engine, "do_connect", _do_connect):
        event.listen(sync_engine, "do_connect", _do_connect)
