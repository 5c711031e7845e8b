"""The SQLite driver: calls on the event loop's thread, and waits for another process's lock
without blocking that loop.

Issue 12, finding 18 began this file: aiosqlite stopped its worker thread without waiting when
opening the database failed, and a thread still running when the loop closed called into it.
The driver now starts no thread at all.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from gharts_adapters.storage import create_store, upgrade
from gharts_adapters.storage._sqlite_driver import LoopThreadConnection
from gharts_core.errors import StorageUnavailable
from tests.unit.builders import make_team

RUNS = 25


async def _fail_to_open(url: str) -> int:
    store = create_store(url)
    try:
        with pytest.raises(StorageUnavailable):
            async with store.unit_of_work():
                pass
        return threading.active_count()
    finally:
        await store.close()


def test_a_failed_open_raises_within_its_loop_and_leaves_no_thread(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing-directory' / 'gharts.db'}"
    errors: list[BaseException | None] = []
    previous = threading.excepthook
    threading.excepthook = lambda args: errors.append(args.exc_value)
    before = threading.active_count()
    try:
        counts = [asyncio.run(_fail_to_open(url)) for _ in range(RUNS)]
    finally:
        threading.excepthook = previous

    assert ([], [before] * RUNS) == (errors, counts)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "gharts.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.mark.asyncio
async def test_a_writer_waits_for_a_lock_held_elsewhere_while_the_loop_runs_on(
    database: Path,
) -> None:
    """The wait is asleep on the loop: other coroutines run, and the write goes through as soon
    as the other connection lets go."""
    store = create_store(f"sqlite+aiosqlite:///{database}", sqlite_busy_timeout=30)
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def write() -> None:
        async with store.unit_of_work() as uow:
            await uow.teams.add(make_team("after-the-wait"))

    ticker = asyncio.create_task(tick())
    asyncio.get_running_loop().call_later(0.3, other.execute, "ROLLBACK")
    started = time.monotonic()
    try:
        await write()
        waited = time.monotonic() - started
        async with store.unit_of_work(read_only=True) as uow:
            written = await uow.teams.get_by_name("after-the-wait")
    finally:
        ticker.cancel()
        other.close()
        await store.close()

    assert written is not None
    assert waited >= 0.3  # it did wait for the lock ...
    assert ticks >= 10  # ... and the loop ran the ticker (every 10 ms) meanwhile


@pytest.mark.asyncio
async def test_a_stale_snapshot_is_refused_at_once_not_retried(database: Path) -> None:
    """``SQLITE_BUSY_SNAPSHOT``: only a new transaction can succeed, so waiting would not help."""
    connection = await LoopThreadConnection(str(database), busy_timeout=30)
    connection.sqlite.isolation_level = None
    other = sqlite3.connect(database, isolation_level=None)
    calls = 0

    def counted(sql: str) -> object:
        nonlocal calls
        calls += 1
        return connection.sqlite.execute(sql)

    try:
        cursor = connection.cursor()
        await cursor.execute("BEGIN")
        await cursor.execute("SELECT count(*) FROM teams")  # the snapshot is taken here
        other.execute("INSERT INTO sync_state (id, cycles) VALUES (1, 0)")  # and made stale here
        with pytest.raises(sqlite3.OperationalError) as refused:
            await connection.patiently(counted, "DELETE FROM sync_state")
    finally:
        other.close()
        await connection.close()

    assert (sqlite3.SQLITE_BUSY_SNAPSHOT, 1) == (refused.value.sqlite_errorcode, calls)
