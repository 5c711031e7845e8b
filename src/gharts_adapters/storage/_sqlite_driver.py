"""aiosqlite connections whose worker thread never outlives the event loop that opened them.

An aiosqlite connection runs its SQLite calls on a thread of its own and hands each result back
with ``loop.call_soon_threadsafe``. When opening the database fails (a missing directory, a
file it may not read), aiosqlite stops that thread without waiting for it: the thread finishes
the failed call and its stop request afterwards, and when the loop has been closed meanwhile
(``asyncio.run`` returning, a test ending) it calls into a closed loop and dies with
``RuntimeError: Event loop is closed``. Under load that happened in about half of the runs.

:func:`connect_waiting_on_failure` opens connections through aiosqlite as SQLAlchemy would, and
on a failed open waits (in a worker thread, the loop staying free) until aiosqlite's thread has
ended before raising, so the failure is fully handled inside the loop that asked for it.
:func:`install` makes an engine's pool open its connections this way.

Each trip to that thread is a hand-off between two threads under one GIL, and aiosqlite makes
four per query (create the cursor, execute, fetch, close) and three per write. The connections
opened here hand out :class:`OneTripCursor`: a write is one trip (cursor, execute and close
together), a query two (the fetch closes the cursor on its way back), and the pool's rollback of
a connection returned after its commit none. A JIT request went from 29 trips to 11.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable
from threading import Thread
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine

T = TypeVar("T")

__all__ = ["OneTripConnection", "OneTripCursor", "connect_waiting_on_failure", "install"]


class OneTripCursor(aiosqlite.Cursor):
    """An aiosqlite cursor that goes to the connection's thread once per write, twice per query.

    The sqlite3 cursor is made on that thread by :meth:`execute`, which also closes it when the
    statement returns no rows; :meth:`fetchall` closes it after reading. ``rowcount``,
    ``lastrowid`` and ``description`` stay readable on a closed sqlite3 cursor.
    """

    def __init__(self, connection: OneTripConnection) -> None:
        # aiosqlite.Cursor.__init__ wants a sqlite3 cursor, which may only be made on the thread.
        self.iter_chunk_size = connection._iter_chunk_size
        self._conn = connection
        self._closed = False

    def _run(self, sql: str, parameters: Any, many: bool) -> None:
        """Make the cursor and execute on the connection's thread; close it unless rows wait."""
        self._cursor = self._conn._conn.cursor()
        if many:
            self._cursor.executemany(sql, parameters)
        else:
            self._cursor.execute(sql, parameters)
        if self._cursor.description is None:
            self._close_now()

    def _fetch_all_and_close(self) -> list[Any]:
        rows = self._cursor.fetchall()
        self._close_now()
        return rows

    def _close_now(self) -> None:
        self._cursor.close()
        self._closed = True

    async def _trip(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function(*args)`` on the connection's thread."""
        result: T = await self._conn._execute(function, *args)  # type: ignore[no-untyped-call]
        return result

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> OneTripCursor:
        """Execute one statement in one trip."""
        await self._trip(self._run, sql, [] if parameters is None else parameters, False)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> OneTripCursor:
        """Execute one statement for each parameter set, in one trip."""
        await self._trip(self._run, sql, parameters, True)
        return self

    async def fetchall(self) -> Iterable[sqlite3.Row]:
        """Fetch the remaining rows and close the cursor, in one trip."""
        if self._closed:
            return []
        return await self._trip(self._fetch_all_and_close)

    async def close(self) -> None:
        """Close the cursor, without a trip when it is closed already."""
        if not self._closed and getattr(self, "_cursor", None) is not None:
            await self._trip(self._close_now)


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors are :class:`OneTripCursor`."""

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        """Return a new cursor; it is made on the thread by its first statement."""
        return OneTripCursor(self)

    async def rollback(self) -> None:
        """Roll back, without a trip when no transaction is open (the pool's reset on return)."""
        # Read from this thread: nothing else runs on the connection between two awaited calls.
        if self._connection is not None and not self._connection.in_transaction:
            return
        await super().rollback()


def _connect(database: str, *, iter_chunk_size: int = 64, **kwargs: Any) -> OneTripConnection:
    """Return an unopened connection, as ``aiosqlite.connect`` does but of our class."""

    def connector() -> sqlite3.Connection:
        opened: sqlite3.Connection = sqlite3.connect(database, **kwargs)
        return opened

    return OneTripConnection(connector, iter_chunk_size)


async def connect_waiting_on_failure(*args: Any, **kwargs: Any) -> aiosqlite.Connection:
    """Open an aiosqlite connection; on failure, return only once its thread has ended."""
    connection = _connect(*args, **kwargs)
    thread: Thread | None = getattr(connection, "_thread", None)
    if thread is not None:
        thread.daemon = True  # as SQLAlchemy's own aiosqlite connect does
    try:
        opened: aiosqlite.Connection = await connection
    except BaseException:
        if thread is not None and thread.is_alive():
            await asyncio.shield(asyncio.to_thread(thread.join))
        raise
    return opened


def _do_connect(dialect: Dialect, _record: object, cargs: Any, cparams: Any) -> Any:
    dbapi: Any = dialect.dbapi
    return dbapi.connect(*cargs, async_creator_fn=connect_waiting_on_failure, **cparams)


def install(sync_engine: Engine) -> None:
    """Make ``sync_engine`` (an aiosqlite engine) open connections that clean up on failure."""
    if not event.contains(sync_engine, "do_connect", _do_connect):
        event.listen(sync_engine, "do_connect", _do_connect)
