"""PostgreSQL's ``lock_timeout``, set by the operator, bounds a JIT request's wait for its team.

A reservation queues on its team's row (``SELECT ... FOR UPDATE``). A transaction that holds it
and never ends (a stuck session, a hand-typed ``BEGIN`` in psql) would make every reservation of
that team wait for ever; PostgreSQL itself bounds the wait when the role or database sets
``lock_timeout`` (docs/operations.md). The refusal must be the API's 503 with ``Retry-After``,
leave no reservation behind and the replica ready, and the next request after the lock is
released must succeed.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from gharts_adapters.storage import upgrade
from tests.integration.api_support import running_api
from tests.postgres import execute_statements, require_postgres, temporary_database

pytestmark = pytest.mark.postgres

#: Long enough never to end a real reservation's wait here, short enough for a test.
LOCK_TIMEOUT = "300ms"
#: How long the lock is held at most: without a bound on the wait, the request then succeeds
#: (and the test fails) instead of hanging the test.
AT_MOST_SECONDS = 30


@pytest.fixture
def impatient_postgres() -> Iterator[str]:
    """A migrated throwaway database whose sessions wait at most ``LOCK_TIMEOUT`` for a lock.

    A plain fixture: the helpers it calls run their own event loops.
    """
    require_postgres()
    with temporary_database() as url:
        upgrade(url)
        name = make_url(url).database
        setting = f"ALTER DATABASE \"{name}\" SET lock_timeout = '{LOCK_TIMEOUT}'"
        asyncio.run(execute_statements(url, setting))
        yield url


async def _live_runners(url: str, team: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(
                text(
                    "SELECT count(*) FROM runners WHERE team_name = :team AND status <> 'deleted'"
                ),
                {"team": team},
            )
            return int(count or 0)
    finally:
        await engine.dispose()


def _hold_the_team(url: str, locked: threading.Event, release: threading.Event) -> None:
    """Hold the team's row as a stuck transaction would, until ``release`` or AT_MOST_SECONDS.

    In a thread with an event loop of its own: the test client blocks the test's loop while a
    request runs, so a holder on that loop could never let go and a regression would hang.
    """

    async def hold() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                statement = "SELECT id FROM teams WHERE name = 'alpha' FOR UPDATE"
                await connection.execute(text(statement))
                locked.set()
                await asyncio.to_thread(release.wait, AT_MOST_SECONDS)
        finally:
            await engine.dispose()

    asyncio.run(hold())


async def test_a_reservation_that_waits_past_lock_timeout_is_refused_with_503(
    impatient_postgres: str,
) -> None:
    url = impatient_postgres
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_the_team, args=(url, locked, release), daemon=True)
    async with running_api(url) as api:
        machine = await api.warmed_machine("alpha-ci", "alpha")
        holder.start()
        try:
            assert await asyncio.to_thread(locked.wait, AT_MOST_SECONDS)
            refused = await api.provision(machine)
            live_while_locked = await _live_runners(url, "alpha")
        finally:
            release.set()
            await asyncio.to_thread(holder.join)
        ready = await api.call("GET", "/readyz")
        after = await api.provision(machine)

    assert (503, "SERVICE_UNAVAILABLE") == (refused.status_code, refused.json().get("error_code"))
    assert int(refused.headers["Retry-After"]) > 0
    assert 1 == live_while_locked  # the warm-up's runner; the refused one left no row
    assert 200 == ready.status_code, ready.text  # a lock wait is load, not a broken database
    assert 201 == after.status_code, after.text
