"""Fixtures of the HTTP integration suite: the app on SQLite (and on PostgreSQL where asked)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.api_support import Api, running_api
from tests.postgres import delete_all_rows


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
        url: str = request.getfixturevalue("migrated_postgres")
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
        await delete_all_rows(database_url)
    return database_url


@pytest.fixture
async def api_on_each_database(fresh_database_url: str) -> AsyncIterator[Api]:
    """The app on a fresh SQLite database, then on an emptied PostgreSQL one."""
    async with running_api(fresh_database_url) as running:
        yield running
