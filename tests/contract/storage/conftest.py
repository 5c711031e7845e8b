"""Fixtures of the storage contract suite: one ``backend`` per store implementation.

Schemas come from the migrations, built once per run (a SQLite template file copied for each
test, one throwaway PostgreSQL database emptied before each test).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from storage_support import Backend

from gharts_adapters.storage import create_engine, metadata, upgrade
from gharts_core.ports.storage import Store
from postgres import require_postgres, temporary_database


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a SQLite file migrated to head, to copy for each test."""
    path = tmp_path_factory.mktemp("storage") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """Yield the URL of a throwaway PostgreSQL database migrated to head."""
    require_postgres()
    with temporary_database(prefix="gharts_storage") as url:
        upgrade(url)
        yield url


async def _empty(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):
                await connection.execute(table.delete())
    finally:
        await engine.dispose()


@pytest.fixture(
    params=["fake", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str | None]:
    """Return the backend name and its database URL (``None`` for the fake).

    A plain fixture: the session fixtures it pulls in run their own event loops.
    """
    if request.param == "sqlite":
        path = tmp_path / "gharts.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return "sqlite", f"sqlite+aiosqlite:///{path}"
    if request.param == "postgres":
        return "postgres", request.getfixturevalue("postgres_database")
    return "fake", None


@pytest.fixture
async def backend(database: tuple[str, str | None]) -> AsyncIterator[Backend]:
    """Yield an empty database of each kind: the fake, SQLite and PostgreSQL."""
    name, url = database
    if name == "postgres" and url is not None:
        await _empty(url)
    backend = Backend(name, url)
    yield backend
    await backend.close()


@pytest.fixture
def store(backend: Backend) -> Store:
    """Return a store on the backend's empty database."""
    return backend.open()
