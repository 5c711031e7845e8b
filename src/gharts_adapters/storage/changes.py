"""Tell the dashboard when runners change, whichever process changed them.

PostgreSQL: the ``runners`` and ``runner_transitions`` tables carry a statement trigger (migration
``0004_dashboard_sessions``) that ``NOTIFY``s :data:`RUNNER_CHANNEL`; :func:`runner_changes`
``LISTEN``s on a connection of its own, so a change committed by a worker in another process
reaches every replica. SQLite (one host, usually one process): the same function reads a cheap
fingerprint of the runners tables every ``poll_interval`` seconds and yields when it moves.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from sqlalchemy import NullPool, func, select

from gharts_adapters.storage.store import create_engine
from gharts_adapters.storage.tables import runner_transitions, runners

RUNNER_CHANNEL = "gharts_runner_changes"
DEFAULT_POLL_INTERVAL = 1.0

_FINGERPRINT = select(
    select(func.count()).select_from(runners).scalar_subquery(),
    select(func.max(runners.c.updated_at)).scalar_subquery(),
    select(func.count()).select_from(runner_transitions).scalar_subquery(),
)


async def runner_changes(
    url: str, *, poll_interval: float = DEFAULT_POLL_INTERVAL
) -> AsyncIterator[None]:
    """Yield once each time runners may have changed, until the caller stops iterating.

    Raise :class:`Exception` subclasses of the driver when the database cannot be reached; the
    caller decides whether to retry.
    """
    engine = create_engine(url, poolclass=NullPool)
    events: AsyncGenerator[None, None]
    if engine.dialect.name == "postgresql":
        events = _notifications(engine)
    else:
        events = _fingerprints(engine, poll_interval)
    try:
        # `async for` does not close the inner generator when this one is closed: without
        # aclosing it would keep its connection until the garbage collector found it.
        async with contextlib.aclosing(events):
            async for _ in events:
                yield None
    finally:
        await engine.dispose()


async def _notifications(engine: Any) -> AsyncGenerator[None, None]:
    queue: asyncio.Queue[None] = asyncio.Queue()

    def notified(_connection: object, _pid: int, _channel: str, _payload: str) -> None:
        queue.put_nowait(None)

    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.add_listener(RUNNER_CHANNEL, notified)
        try:
            while True:
                await queue.get()
                while not queue.empty():  # a burst of changes is one event
                    queue.get_nowait()
                yield None
        finally:
            with contextlib.suppress(Exception):
                await driver.remove_listener(RUNNER_CHANNEL, notified)


async def _fingerprints(engine: Any, poll_interval: float) -> AsyncGenerator[None, None]:
    seen: tuple[Any, ...] | None = None
    while True:
        async with engine.connect() as connection:
            row = (await connection.execute(_FINGERPRINT)).one()
        current = tuple(row)
        if seen is not None and current != seen:
            yield None
        seen = current
        await asyncio.sleep(poll_interval)
