"""The dashboard's watch of runner changes, on SQLite and PostgreSQL.

A runner change committed by this process is announced by its store after the commit (and only
then, and only for runner tables); the watch hears it at once: on SQLite from that announcement,
with the cross-process check set to an hour so that it cannot be what delivered it, on
PostgreSQL through the trigger's NOTIFY. A change committed by another process (another store,
its own engine) is heard through the cross-process check (SQLite ``PRAGMA data_version``) or
NOTIFY. Waits are bounded and on the event itself, never a fixed sleep.
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

from gharts_adapters.storage import SqlStore, create_store
from gharts_adapters.storage.changes import runner_changes
from gharts_core.model import RunnerStatus, RunnerTransition, TransitionSource
from tests.contract.storage.storage_support import (
    T0,
    add_teams,
    make_audit,
    make_runner,
    make_team,
)
from tests.postgres import delete_all_rows

TIMEOUT = 20.0
AN_HOUR = 3600.0


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


@pytest.fixture
async def store(url: str) -> AsyncIterator[SqlStore]:
    opened = create_store(url)
    yield opened
    await opened.close()


async def _next(changes: AsyncIterator[None]) -> None:
    await anext(changes)


async def _heard_while_changing(
    writer: SqlStore, changes: AsyncIterator[None], team_name: str = "team-a"
) -> None:
    """Change a runner until ``changes`` yields, a bounded number of times.

    A change committed before the watch listens is not an event, and the watch starts listening
    only once its first ``anext`` runs: so change again (a new ``updated_at``) until it hears one.
    """
    team = make_team(team_name)
    await add_teams(writer, team)
    heard = asyncio.ensure_future(_next(changes))
    runner = make_runner(team, "r-1")
    try:
        async with writer.unit_of_work() as uow:
            await uow.runners.reserve(runner, None)
        for step in range(1, 100):
            done, _ = await asyncio.wait({heard}, timeout=0.2)
            if done:
                break
            runner = attrs.evolve(runner, updated_at=T0 + timedelta(seconds=step))
            async with writer.unit_of_work() as uow:
                await uow.runners.save(runner)
        await asyncio.wait_for(heard, TIMEOUT)
    finally:
        heard.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heard


async def test_a_runner_change_committed_in_this_process_is_heard_without_a_poll(
    store: SqlStore,
) -> None:
    changes = runner_changes(store, cross_process_interval=AN_HOUR)
    try:
        await _heard_while_changing(store, changes)
    finally:
        await changes.aclose()


async def test_a_runner_change_committed_by_another_process_is_heard(
    store: SqlStore, url: str
) -> None:
    other_process = create_store(url)  # its own engine and feed: only the database is shared
    changes = runner_changes(store, cross_process_interval=0.05)
    try:
        await _heard_while_changing(other_process, changes)
    finally:
        await changes.aclose()
        await other_process.close()


async def test_the_store_announces_runner_writes_after_their_commit_only(
    store: SqlStore,
) -> None:
    """Reserve, advance and advance_runner announce after their commit; a rollback or a team
    write, nothing."""
    announced: list[int] = []
    unsubscribe = store.runner_writes.subscribe(lambda: announced.append(1))
    team = make_team("team-a")
    runner = make_runner(team, "r-1")
    await add_teams(store, team)
    async with store.unit_of_work() as uow:
        await uow.runners.reserve(runner, None)
        during = len(announced)
    after_reserve = len(announced)
    with contextlib.suppress(RuntimeError):
        async with store.unit_of_work() as uow:
            await uow.runners.save(attrs.evolve(runner, name="renamed"))
            raise RuntimeError("rolled back")
    async with store.unit_of_work() as uow:
        await uow.teams.update(attrs.evolve(team, description="Quiet"))
    online = attrs.evolve(runner, status=RunnerStatus.ONLINE, updated_at=T0 + timedelta(1))
    transition = RunnerTransition(
        runner.id, runner.status, online.status, TransitionSource.SYNC, online.updated_at
    )
    async with store.unit_of_work() as uow:
        assert await uow.runners.advance(runner, online, transition)
    busy = attrs.evolve(online, status=RunnerStatus.BUSY, updated_at=T0 + timedelta(2))
    to_busy = RunnerTransition(
        runner.id, online.status, busy.status, TransitionSource.SYNC, busy.updated_at
    )
    # The store's own audited move (on PostgreSQL one statement in autocommit) announces too.
    assert await store.advance_runner(online, busy, to_busy, make_audit(busy.updated_at))
    unsubscribe()
    async with store.unit_of_work() as uow:
        await uow.runners.save(attrs.evolve(busy, name="unheard"))

    assert (0, 1, 3) == (during, after_reserve, len(announced))


async def test_a_quiet_database_is_not_a_change(store: SqlStore, url: str) -> None:
    """Writes to other tables, from this process or another, announce nothing."""
    other_process = create_store(url)
    await add_teams(store, make_team("team-a"))
    changes = runner_changes(store, cross_process_interval=0.05)
    heard = asyncio.ensure_future(_next(changes))
    try:
        await add_teams(other_process, make_team("team-b"))
        done, _ = await asyncio.wait({heard}, timeout=1.0)
        assert not done
    finally:
        heard.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heard
        await changes.aclose()
        await other_process.close()
