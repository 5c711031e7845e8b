"""What one JIT request waits for on PostgreSQL, and the checkout that replaced the pre-ping.

Each round trip is a wait on the network and another turn of the event loop. Counted by wrapping
asyncpg's calls that send one batch of messages and wait for its answer: a simple query
(``BEGIN``, ``COMMIT``, the ping's ``;``), a prepare, a bound execution. Counts, never timings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import pytest
from asyncpg.prepared_stmt import PreparedStatement
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from gharts_adapters.storage import create_engine
from tests.integration.api_support import Api, running_api
from tests.integration.worker_support import eventually
from tests.postgres import delete_all_rows

pytestmark = pytest.mark.postgres

#: The reservation: BEGIN, the team's locked read, the runner and its first transition in one
#: statement, COMMIT. The bind: its update, transition and audit row in one statement, in
#: autocommit (no BEGIN, no COMMIT). Before, the pre-ping added BEGIN, ``;`` and ROLLBACK to each
#: checkout, a runner's write and its transition were two statements, and the bind was a
#: transaction of its own: 16 in all, then 8.
MAX_TRIPS = 5


@pytest.fixture
async def pg_api(migrated_postgres: str) -> AsyncIterator[Api]:
    """The app on an emptied PostgreSQL database."""
    await delete_all_rows(migrated_postgres)
    async with running_api(migrated_postgres) as running:
        yield running


@contextmanager
def round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record every asyncpg call that waits for the server, by what it sent."""
    trips: list[str] = []

    def count(owner: type, name: str, label: Callable[..., str]) -> None:
        original = getattr(owner, name)

        async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            trips.append(label(self, *args))
            return await original(self, *args, **kwargs)

        monkeypatch.setattr(owner, name, counted)

    count(asyncpg.Connection, "execute", lambda _c, query, *_a: query.strip().rstrip(";"))
    count(asyncpg.Connection, "fetchrow", lambda _c, query, *_a: f"fetchrow {query!r}")
    count(asyncpg.Connection, "prepare", lambda _c, query, *_a: f"prepare {query[:40]}")
    count(PreparedStatement, "fetch", lambda s, *_a: f"execute {s.get_query()[:40]}")
    try:
        yield trips
    finally:
        monkeypatch.undo()


async def test_a_jit_request_waits_for_postgresql_five_times(
    pg_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One transaction of BEGIN, two statements and COMMIT, then one statement; no ping."""
    api = pg_api
    machine = await api.warmed_machine("alpha-ci", "alpha")

    with round_trips(monkeypatch) as trips:
        response = await api.provision(machine)

    assert 201 == response.status_code, response.text
    assert len(trips) <= MAX_TRIPS, trips
    assert (1, 1, []) == (
        sum(t.startswith("BEGIN") for t in trips),
        trips.count("COMMIT"),
        [t for t in trips if t.startswith(("fetchrow", "prepare")) or t == "ROLLBACK"],
    ), trips


async def _server_pids(url: str) -> set[int]:
    probe = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with probe.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            return {int(pid) for (pid,) in rows}
    finally:
        await probe.dispose()


async def test_a_pooled_connection_the_server_closed_is_replaced_at_checkout(
    migrated_postgres: str,
) -> None:
    """A restart or ``pg_terminate_backend`` closes the pooled sessions; the next unit of work
    gets a new one instead of a statement failing on the dead one."""
    engine = create_engine(migrated_postgres)
    try:
        async with engine.connect() as connection:
            old_pid = await connection.scalar(text("SELECT pg_backend_pid()"))
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
        assert driver is not None
        probe = create_async_engine(migrated_postgres, isolation_level="AUTOCOMMIT")
        try:
            async with probe.connect() as other:
                await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": old_pid})
        finally:
            await probe.dispose()
        await eventually(driver.is_closed, what="asyncpg seeing the session closed")

        async with engine.connect() as connection:
            new_pid = await connection.scalar(text("SELECT pg_backend_pid()"))
        live = await _server_pids(migrated_postgres)
    finally:
        await engine.dispose()

    assert new_pid != old_pid
    assert new_pid in live
    assert old_pid not in live


async def _rows(url: str, query: str) -> list[tuple[Any, ...]]:
    probe = create_async_engine(url)
    try:
        async with probe.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(query))]
    finally:
        await probe.dispose()


async def test_a_refused_reservation_writes_no_transition(
    pg_api: Api, migrated_postgres: str
) -> None:
    """The runner and its first transition are one statement: a refusal writes neither."""
    api = pg_api
    await api.seed_team("alpha", max_runners=1)
    await api.seed_client("alpha-ci", "alpha")
    machine = api.as_machine("alpha-ci")
    first = await api.provision(machine)
    refused = await api.provision(machine)

    transitions = await _rows(
        migrated_postgres,
        "SELECT r.name, t.from_status, t.to_status FROM runner_transitions t "
        "JOIN runners r ON r.id = t.runner_id ORDER BY t.seq",
    )
    assert (201, 429, "QUOTA_EXCEEDED") == (
        first.status_code,
        refused.status_code,
        refused.json()["error_code"],
    ), refused.text
    name = first.json()["runner_name"]
    assert [(name, None, "provisioning"), (name, "provisioning", "pending")] == transitions
