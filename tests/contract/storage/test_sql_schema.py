"""The SQL adapter's own promises beyond the port.

Migrations build exactly the models' schema, the database itself refuses audit edits, and driver
errors arrive as the core's errors.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, exc, inspect, text
from sqlalchemy.engine import Connection

from gharts_adapters.storage import create_engine, create_store, metadata, upgrade
from gharts_adapters.storage.migrate import downgrade
from gharts_core.errors import Conflict, StorageUnavailable
from gharts_core.ports.storage import Page, RunnerFilter
from tests.contract.storage.storage_support import (
    add_teams,
    make_audit,
    make_runner,
    make_security,
    make_team,
    make_user,
    minutes,
)
from tests.postgres import require_postgres, temporary_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of a database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    require_postgres()
    with temporary_database(prefix="gharts_migration") as url:
        yield url


async def _inspect(url: str, look: Any) -> Any:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(look)
    finally:
        await engine.dispose()


def _differences(connection: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def test_upgrade_head_builds_exactly_the_models_schema_and_downgrade_removes_it(
    empty_database: str,
) -> None:
    upgrade(empty_database)
    differences = asyncio.run(_inspect(empty_database, _differences))
    downgrade(empty_database, "base")
    left = asyncio.run(_inspect(empty_database, _tables))

    expected: tuple[list[Any], set[str]] = ([], {"alembic_version"})
    assert expected == (differences, left)


@pytest.fixture
def migrated(empty_database: str) -> str:
    upgrade(empty_database)
    return empty_database


@pytest.mark.parametrize("table", ["audit_events", "security_events"])
async def test_the_database_refuses_to_update_audit_rows(migrated: str, table: str) -> None:
    store = create_store(migrated)
    async with store.unit_of_work() as uow:
        await uow.audit.append(make_audit(minutes(1)))
        await uow.security_events.append(make_security(minutes(1)))
    await store.close()
    engine = create_engine(migrated)
    try:
        with pytest.raises(exc.DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(text(f"UPDATE {table} SET actor_name = 'mallory'"))  # noqa: S608
    finally:
        await engine.dispose()


async def test_a_broken_unique_rule_is_a_conflict_naming_it(migrated: str) -> None:
    store = create_store(migrated)
    try:
        async with store.unit_of_work() as uow:
            await uow.users.add(make_user("alice@example.com"))
        with pytest.raises(Conflict, match="email") as raised:
            async with store.unit_of_work() as uow:
                await uow.users.add(make_user("alice@example.com"))
    finally:
        await store.close()

    assert isinstance(raised.value.__cause__, exc.IntegrityError)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:////nonexistent-gharts-dir/gharts.db",
        "postgresql+asyncpg://postgres@127.0.0.1:1/test",
    ],
    ids=["sqlite-missing-directory", "postgres-closed-port"],
)
async def test_an_unreachable_database_is_storage_unavailable_and_not_ready(url: str) -> None:
    store = create_store(url)
    try:
        with pytest.raises(StorageUnavailable) as raised:
            async with store.unit_of_work():
                pass
        ready = await store.ping()
    finally:
        await store.close()

    expected = (False, True)
    assert expected == (ready, raised.value.__cause__ is not None)


@pytest.mark.parametrize("include_deleted", [True, False], ids=["with-deleted", "live"])
async def test_a_teams_runner_listing_reads_an_index_in_order_instead_of_sorting(
    tmp_path: Path, include_deleted: bool
) -> None:
    """SQLite's plan for a team's page of runners: the team's index, newest first.

    Without it SQLite read and sorted every runner of the team for each page (a few ms of its
    own work per request at a few thousand runners). Sorting ties by id within one timestamp
    (``RIGHT PART OF ORDER BY``) is fine: the scan still stops at the page's end.
    """
    url = f"sqlite+aiosqlite:///{tmp_path / 'plan.db'}"
    await asyncio.to_thread(upgrade, url)  # alembic runs its own event loop
    store = create_store(url)
    seen: list[tuple[str, Any]] = []

    def capture(_c: object, _cur: object, sql: str, parameters: Any, *_rest: object) -> None:
        if "ORDER BY" in sql:
            seen.append((sql, parameters))

    team = make_team("team-a")
    try:
        await add_teams(store, team)
        async with store.unit_of_work() as uow:
            await uow.runners.reserve(make_runner(team, "a1"), None)
        event.listen(store.engine.sync_engine, "before_cursor_execute", capture)
        async with store.unit_of_work(read_only=True) as uow:
            query = RunnerFilter(team_ids=frozenset({team.id}), include_deleted=include_deleted)
            await uow.runners.list(query, Page(limit=50, offset=0))
    finally:
        await store.close()
    [(sql, parameters)] = seen
    with sqlite3.connect(tmp_path / "plan.db") as connection:
        plan = [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters)]

    assert any("ix_runners_team_id_created_at_id" in step for step in plan), plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
