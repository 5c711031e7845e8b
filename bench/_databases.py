"""Run a measurement on a fresh SQLite file or a throwaway PostgreSQL database.

An unreachable PostgreSQL server is reported in the results (``{"skipped": reason}``), not raised,
so the other benchmarks still run on a machine without one.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from gharts_adapters.storage import upgrade

POSTGRES_URL = os.environ.get(
    "GHARTS_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
Measure = Callable[[str], Awaitable[dict[str, object]]]


def on_sqlite(measure: Measure) -> dict[str, object]:
    """Return ``measure(url)`` on a freshly migrated SQLite file."""
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        upgrade(url)
        return asyncio.run(measure(url))


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with asyncio.timeout(5), engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def on_postgres(measure: Measure) -> dict[str, object]:
    """Return ``measure(url)`` on a migrated throwaway PostgreSQL database, dropped afterwards."""
    server = make_url(POSTGRES_URL)
    maintenance = server.render_as_string(hide_password=False)
    name = f"gharts_bench_{secrets.token_hex(4)}"
    try:
        asyncio.run(_admin(maintenance, f'CREATE DATABASE "{name}"'))
    except Exception as error:  # an unreachable server is reported, not raised
        return {"skipped": f"PostgreSQL at {server!r} unreachable: {type(error).__name__}"}
    try:
        url = server.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        return asyncio.run(measure(url))
    finally:
        asyncio.run(_admin(maintenance, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
