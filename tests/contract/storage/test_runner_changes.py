"""The dashboard's watch of runner changes: it hears a change another connection commits.

On PostgreSQL the migration's trigger NOTIFYs and the watch LISTENs on a connection of its own,
so the change may come from any process; on SQLite the watch reads a fingerprint of the runner
tables. Waits are bounded and on the event itself, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import attrs
import pytest

from gharts_adapters.storage import create_store
from gharts_adapters.storage.changes import runner_changes
from tests.contract.storage.storage_support import T0, add_teams, make_runner, make_team
from tests.postgres import delete_all_rows

TIMEOUT = 20.0


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A plain fixture: the session fixtures it pulls in run their own event loops."""
    if request.param == "sqlite":
        path = tmp_path / "gharts.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    postgres: str = request.getfixturevalue("migrated_postgres")
    return postgres


@pytest.fixture
async def url(database: str) -> str:
    if database.startswith("postgresql"):
        await delete_all_rows(database)
    return database


async def _next(changes: AsyncIterator[None]) -> None:
    await anext(changes)


async def test_a_runner_change_committed_elsewhere_is_heard(url: str) -> None:
    store = create_store(url)
    team = make_team("team-a")
    await add_teams(store, team)
    changes = runner_changes(url, poll_interval=0.05)
    heard = asyncio.ensure_future(_next(changes))
    runner = make_runner(team, "r-1")
    try:
        async with store.unit_of_work() as uow:
            await uow.runners.reserve(runner, None)
        # A change committed before the watch was connected is not an event: change again
        # (a new updated_at) until the watch hears one, at most a bounded number of times.
        for step in range(1, 100):
            done, _ = await asyncio.wait({heard}, timeout=0.2)
            if done:
                break
            runner = attrs.evolve(runner, updated_at=T0 + timedelta(seconds=step))
            async with store.unit_of_work() as uow:
                await uow.runners.save(runner)
        await asyncio.wait_for(heard, TIMEOUT)
    finally:
        heard.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heard
        await changes.aclose()
        await store.close()


async def test_a_quiet_database_is_not_a_change(url: str) -> None:
    store = create_store(url)
    await add_teams(store, make_team("team-a"))
    changes = runner_changes(url, poll_interval=0.05)
    heard = asyncio.ensure_future(_next(changes))
    try:
        done, _ = await asyncio.wait({heard}, timeout=1.0)
        assert not done
    finally:
        heard.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heard
        await changes.aclose()
        await store.close()
