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
"""

from __future__ import annotations

import asyncio
from threading import Thread
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine

__all__ = ["connect_waiting_on_failure", "install"]


async def connect_waiting_on_failure(*args: Any, **kwargs: Any) -> aiosqlite.Connection:
    """Open an aiosqlite connection; on failure, return only once its thread has ended."""
    connection = aiosqlite.connect(*args, **kwargs)
    thread: Thread | None = getattr(connection, "_thread", None)
    if thread is not None:
        thread.daemon = True  # as SQLAlchemy's own aiosqlite connect does
    try:
        return await connection
    except BaseException:
        if thread is not None and thread.is_alive():
            await asyncio.shield(asyncio.to_thread(thread.join))
        raise


def _do_connect(dialect: Dialect, _record: object, cargs: Any, cparams: Any) -> Any:
    dbapi: Any = dialect.dbapi
    return dbapi.connect(*cargs, async_creator_fn=connect_waiting_on_failure, **cparams)


def install(sync_engine: Engine) -> None:
    """Make ``sync_engine`` (an aiosqlite engine) open connections that clean up on failure."""
    if not event.contains(sync_engine, "do_connect", _do_connect):
        event.listen(sync_engine, "do_connect", _do_connect)
