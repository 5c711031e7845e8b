"""The SQL adapter's own promises beyond the port.

Migrations build exactly the models' schema, the database itself refuses audit edits, and driver
errors arrive as the core's errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import exc, inspect, text
from sqlalchemy.engine import Connection

from gharts_adapters.storage import create_engine, create_store, metadata, upgrade
from gharts_adapters.storage.migrate import downgrade
from gharts_core.errors import Conflict, StorageUnavailable
from tests.contract.storage.storage_support import make_audit, make_security, make_user, minutes
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
