"""Tell the dashboard when runners change, whichever process changed them.

PostgreSQL: the ``runners`` and ``runner_transitions`` tables carry a statement trigger (migration
``0004_dashboard_sessions``) that ``NOTIFY``s :data:`RUNNER_CHANNEL` at every commit that changed
them, from any process; :func:`runner_changes` ``LISTEN``s on a connection of its own, so a
change reaches every replica.

SQLite: a change committed by this process is announced by its store at once
(:class:`~gharts_adapters.storage.runner_writes.RunnerWrites`), without reading the database. A
worker in *another* process on the same file is noticed by a cheap check every
``cross_process_interval`` seconds: ``PRAGMA data_version`` on a connection held open (it moves
when another connection committed), and only when it moved a fingerprint of the runner tables,
so that writes to other tables are not announced.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from sqlalchemy import NullPool, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gharts_adapters.storage.store import SqlStore, create_engine
from gharts_adapters.storage.tables import runner_transitions, runners

RUNNER_CHANNEL = "gharts_runner_changes"
#: How often a SQLite watch looks for changes committed by other processes.
DEFAULT_CROSS_PROCESS_INTERVAL = 2.0

_FINGERPRINT = select(
    select(func.count()).select_from(runners).scalar_subquery(),
    select(func.max(runners.c.updated_at)).scalar_subquery(),
    select(func.count()).select_from(runner_transitions).scalar_subquery(),
)
# The execution option of store.py that makes the SQLite BEGIN deferred (no write lock).
_READ_ONLY = {"gharts_read_only": True}


async def runner_changes(
    store: SqlStore, *, cross_process_interval: float = DEFAULT_CROSS_PROCESS_INTERVAL
) -> AsyncIterator[None]:
    """Yield once each time runners may have changed, until the caller stops iterating.

    Raise :class:`Exception` subclasses of the driver when the database cannot be reached; the
    caller decides whether to retry.
    """
    url = store.engine.url.render_as_string(hide_password=False)
    engine = create_engine(url, poolclass=NullPool)
    events: AsyncGenerator[None, None]
    if engine.dialect.name == "postgresql":
        events = _notifications(engine)
    else:
        events = _sqlite_changes(store, engine, cross_process_interval)
    try:
        # `async for` does not close the inner generator when this one is closed: without
        # aclosing it would keep its connection until the garbage collector found it.
        async with contextlib.aclosing(events):
            async for _ in events:
                yield None
    finally:
        await engine.dispose()


async def _bursts(queue: asyncio.Queue[None]) -> AsyncGenerator[None, None]:
    while True:
        await queue.get()
        while not queue.empty():  # a burst of changes is one event
            queue.get_nowait()
        yield None


async def _notifications(engine: AsyncEngine) -> AsyncGenerator[None, None]:
    queue: asyncio.Queue[None] = asyncio.Queue()

    def notified(_connection: object, _pid: int, _channel: str, _payload: str) -> None:
        queue.put_nowait(None)

    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.add_listener(RUNNER_CHANNEL, notified)
        try:
            async with contextlib.aclosing(_bursts(queue)) as bursts:
                async for _ in bursts:
                    yield None
        finally:
            with contextlib.suppress(Exception):
                await driver.remove_listener(RUNNER_CHANNEL, notified)


async def _sqlite_changes(
    store: SqlStore, engine: AsyncEngine, interval: float
) -> AsyncGenerator[None, None]:
    queue: asyncio.Queue[None] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def written() -> None:
        loop.call_soon_threadsafe(queue.put_nowait, None)

    unsubscribe = store.runner_writes.subscribe(written)
    async with engine.connect() as connection:
        watch = asyncio.create_task(_other_processes(connection, interval, queue))
        watch.add_done_callback(lambda _: queue.put_nowait(None))  # wake the loop to re-raise
        try:
            async with contextlib.aclosing(_bursts(queue)) as bursts:
                async for _ in bursts:
                    if watch.done():  # it failed: let the caller see why, and retry
                        watch.result()
                    yield None
        finally:
            unsubscribe()
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch


async def _other_processes(
    connection: AsyncConnection, interval: float, queue: asyncio.Queue[None]
) -> None:
    connection = await connection.execution_options(**_READ_ONLY)
    version, fingerprint = await _read(connection, fingerprint=True)
    while True:
        await asyncio.sleep(interval)
        moved, _ = await _read(connection, fingerprint=False)
        if moved == version:
            continue
        version, current = await _read(connection, fingerprint=True)
        if current != fingerprint:
            fingerprint = current
            queue.put_nowait(None)


async def _read(connection: AsyncConnection, *, fingerprint: bool) -> tuple[int, tuple[Any, ...]]:
    # One short read transaction each time: data_version and the tables as of now.
    try:
        version = (await connection.exec_driver_sql("PRAGMA data_version")).scalar_one()
        found = tuple((await connection.execute(_FINGERPRINT)).one()) if fingerprint else ()
    finally:
        await connection.rollback()
    return int(version), found
