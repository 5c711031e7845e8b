"""Fixtures of the storage contract suite: one ``backend`` per store implementation.

Schemas come from the migrations, built once per run (a SQLite template file copied for each
test, one throwaway PostgreSQL database emptied before each test).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gharts_core.ports.storage import Store
from tests.contract.storage.storage_support import Backend
from tests.postgres import delete_all_rows


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
        return "postgres", request.getfixturevalue("migrated_postgres")
    return "fake", None


@pytest.fixture
async def backend(database: tuple[str, str | None]) -> AsyncIterator[Backend]:
    """Yield an empty database of each kind: the fake, SQLite and PostgreSQL."""
    name, url = database
    if name == "postgres" and url is not None:
        await delete_all_rows(url)
    backend = Backend(name, url)
    yield backend
    await backend.close()


@pytest.fixture
def store(backend: Backend) -> Store:
    """Return a store on the backend's empty database."""
    return backend.open()
