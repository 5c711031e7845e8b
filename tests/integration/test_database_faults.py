"""The database failing under the API: SQLite held by another process, PostgreSQL refusing and
dropping connections. Every request answers 503 ``SERVICE_UNAVAILABLE`` with ``Retry-After``
within a bounded wait, none a 500, and the service recovers by itself. Litestar's test client
serves one request at a time, so concurrency is shown on the store the app uses.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from gharts_adapters.storage import create_store, upgrade
from gharts_core.errors import StorageUnavailable
from tests.integration.api_support import Api, running_api
from tests.postgres import postgres_url, require_postgres, temporary_database
from tests.unit.builders import make_team

pytestmark = pytest.mark.asyncio

BUSY_TIMEOUT = 0.5


@contextmanager
def write_lock_held(sqlite_url: str) -> Iterator[None]:
    """Hold the database's write lock from another connection, as another process would."""
    other = sqlite3.connect(make_url(sqlite_url).database or "", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


def outcome(response: httpx.Response) -> tuple[int, str | None, str | None]:
    """Status, error code and ``Retry-After`` of an answer."""
    return (
        response.status_code,
        response.json().get("error_code"),
        response.headers.get("Retry-After"),
    )


async def create_teams(api: Api, names: list[str]) -> list[httpx.Response]:
    """Create the teams at once, as concurrent clients would."""
    return list(
        await asyncio.gather(
            *(
                api.call("POST", "/api/v1/admin/teams", api.as_admin(), json={"name": name})
                for name in names
            )
        )
    )


async def test_requests_wait_a_bounded_time_for_a_sqlite_lock_held_elsewhere(
    sqlite_url: str,
) -> None:
    """Each request gets 503 with ``Retry-After`` within about the bound, the replica stays
    ready, and the next request gets 201.

    (The test client serves one request at a time; the next test shows the bound holding for
    concurrent units of work.)
    """
    database = {"sqlite_busy_timeout_seconds": BUSY_TIMEOUT}
    async with running_api(sqlite_url, database=database) as api:
        await api.call("GET", "/api/v1/auth/me", api.as_admin(), expect=200)
        with write_lock_held(sqlite_url):
            waits, held = [], []
            for name in ("busy-1", "busy-2", "busy-3"):
                started = time.monotonic()
                held += await create_teams(api, [name])
                waits.append(time.monotonic() - started)
        # Waiting out another process's lock is the database under load, not broken writes.
        ready = await api.call("GET", "/readyz")
        after = await create_teams(api, ["free"])

    assert [(503, "SERVICE_UNAVAILABLE", "5")] * 3 == [outcome(r) for r in held]
    assert max(waits) < 4 * BUSY_TIMEOUT, waits  # the old busy timeout was 30 s
    assert 200 == ready.status_code, ready.text
    assert [201] == [response.status_code for response in after]


async def test_concurrent_units_of_work_each_wait_the_bound_not_their_turn(
    sqlite_url: str,
) -> None:
    """Twenty writers queued behind a lock held elsewhere all give up together, not in turn."""
    store = create_store(sqlite_url, sqlite_busy_timeout=BUSY_TIMEOUT)

    async def write(name: str) -> str:
        try:
            async with store.unit_of_work() as uow:
                await uow.teams.add(make_team(name))
        except StorageUnavailable:
            return "unavailable"
        return "written"

    try:
        with write_lock_held(sqlite_url):
            started = time.monotonic()
            results = await asyncio.gather(*(write(f"queued-{i}") for i in range(20)))
            waited = time.monotonic() - started
    finally:
        await store.close()
    assert ["unavailable"] * 20 == results
    # In turn they would take 20 busy timeouts; bounded, about two.
    assert waited < 5 * BUSY_TIMEOUT, waited


async def _maintenance(statements: list[str]) -> None:
    engine = create_async_engine(postgres_url(), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def read_team(api: Api) -> object:
    """Read team alpha straight from the store (the test client serves one request at a time)."""
    async with api.services.store.unit_of_work() as uow:
        return await uow.teams.get_by_name("alpha")


@pytest.fixture
def own_postgres() -> Iterator[str]:
    """A PostgreSQL database of this test alone (it is closed to connections for a while)."""
    require_postgres()
    with temporary_database(prefix="gharts_refusing") as url:
        upgrade(url)
        yield url


@pytest.mark.postgres
async def test_postgresql_refusing_and_dropping_connections_under_load(own_postgres: str) -> None:
    """``ALLOW_CONNECTIONS false`` and every session cut: 503 for all, no 500; then it heals."""
    name = make_url(own_postgres).database
    load = 50
    async with running_api(own_postgres) as api:
        await api.seed_team("alpha")
        terminate = (
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "  # noqa: S608 - a name we made
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
        await _maintenance(
            [
                f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
                terminate,
            ]
        )
        try:
            during = await asyncio.gather(
                *(api.call("GET", "/api/v1/admin/teams/alpha", api.as_admin()) for _ in range(load))
            )
            concurrent = await asyncio.gather(
                *(read_team(api) for _ in range(load)), return_exceptions=True
            )
        finally:
            await _maintenance([f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'])
        started = time.monotonic()
        healed = await api.call("GET", "/api/v1/admin/teams/alpha", api.as_admin())
        recovery = time.monotonic() - started

    assert Counter({(503, "SERVICE_UNAVAILABLE", "5"): load}) == Counter(map(outcome, during))
    assert {StorageUnavailable} == {type(result) for result in concurrent}
    assert (200, True) == (healed.status_code, recovery < 10), recovery
