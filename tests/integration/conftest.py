"""Fixtures of the HTTP integration suite: the app on SQLite (and on PostgreSQL where asked)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from api_support import Api, running_api

from gharts_adapters.storage import create_engine, metadata, upgrade
from postgres import require_postgres, temporary_database


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, copied for each test."""
    path = tmp_path_factory.mktemp("api") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_api_database() -> Iterator[str]:
    """A throwaway PostgreSQL database migrated to head, emptied before each test using it."""
    require_postgres()
    with temporary_database(prefix="gharts_api") as url:
        upgrade(url)
        yield url


async def empty_database(url: str) -> None:
    """Delete every row (the schema stays)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):
                await connection.execute(table.delete())
    finally:
        await engine.dispose()


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """The URL of a fresh migrated SQLite database."""
    path = tmp_path / "gharts.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh database of each kind; tests taking it run on SQLite and PostgreSQL."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_api_database")
        return url
    url = request.getfixturevalue("sqlite_url")
    return str(url)


@pytest.fixture
async def api(sqlite_url: str) -> AsyncIterator[Api]:
    """The app on a fresh SQLite database."""
    async with running_api(sqlite_url) as running:
        yield running


@pytest.fixture
async def fresh_database_url(database_url: str) -> str:
    """A fresh SQLite database, then an emptied PostgreSQL one (for apps with custom settings)."""
    if database_url.startswith("postgresql"):
        await empty_database(database_url)
    return database_url


@pytest.fixture
async def api_on_each_database(fresh_database_url: str) -> AsyncIterator[Api]:
    """The app on a fresh SQLite database, then on an emptied PostgreSQL one."""
    async with running_api(fresh_database_url) as running:
        yield running
