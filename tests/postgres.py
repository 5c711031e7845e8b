"""PostgreSQL for tests: find the server, or skip (locally) / fail (CI), and throwaway databases.

Import it as ``tests.postgres``::

    from tests.postgres import require_postgres, temporary_database

    @pytest.fixture(scope="session")
    def pg_url() -> Iterator[str]:
        require_postgres()
        with temporary_database() as url:
            upgrade(url)
            yield url

The server URL comes from ``GHARTS_TEST_POSTGRES_URL`` (default
``postgresql+asyncpg://postgres@127.0.0.1:5432/test``). Each call of :func:`temporary_database`
creates a database with a random name next to that one and drops it at the end, so parallel test
runs never collide.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from gharts_adapters.storage import create_engine, metadata

CONNECT_TIMEOUT = 5.0
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
HOW_TO_ENABLE = (
    "start PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres, database test), "
    "or point GHARTS_TEST_POSTGRES_URL at a server"
)


def postgres_url() -> str:
    """Return the URL of the test server's maintenance database."""
    return os.environ.get("GHARTS_TEST_POSTGRES_URL", DEFAULT_URL)


async def execute_statements(url: str, *statements: str) -> None:
    """Run ``statements`` at ``url`` in autocommit (for DDL and settings), within a bound."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT), engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


def unreachable_reason(url: str | None = None) -> str | None:
    """Return why the server cannot be used, or ``None`` when it answers."""
    try:
        asyncio.run(execute_statements(url or postgres_url(), "SELECT 1"))
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


def require_postgres(url: str | None = None) -> None:
    """Skip the test when PostgreSQL is unreachable, or fail it when ``CI=true``."""
    reason = unreachable_reason(url)
    if reason is None:
        return
    message = f"PostgreSQL at {make_url(url or postgres_url())!r} is unreachable ({reason})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI=true requires it.")
    pytest.skip(f"{message}; to run these tests, {HOW_TO_ENABLE}.")


@contextmanager
def temporary_database(url: str | None = None, *, prefix: str = "gharts_test") -> Iterator[str]:
    """Create an empty database with a random name, yield its URL, and drop it afterwards."""
    server = make_url(url or postgres_url())
    name = f"{prefix}_{secrets.token_hex(6)}"
    maintenance = server.render_as_string(hide_password=False)
    asyncio.run(execute_statements(maintenance, f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        asyncio.run(execute_statements(maintenance, drop))


async def delete_all_rows(url: str) -> None:
    """Delete every row of gharts' tables at ``url`` (the schema stays)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):
                await connection.execute(table.delete())
    finally:
        await engine.dispose()
