"""What one JIT request costs the database: statements, transactions, and no read under the lock.

Counted with SQLAlchemy's ``before_cursor_execute`` and ``begin`` events on the app's own engine,
for a warmed-up caller (its principal cached, as on every request but the first of a few
seconds). Counts, never timings.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from gharts_adapters.storage._sqlite_driver import OneTripConnection
from tests.integration.api_support import Api

#: The reservation (the team, read locked on PostgreSQL; the runner, whose labels the database's
#: trigger writes; the first transition) and the bind (compare-and-set update, transition, audit).
MAX_STATEMENTS = {"sqlite": 6, "postgresql": 6}
#: SQLite's trips to aiosqlite's thread: per transaction BEGIN and COMMIT, one per write, two
#: for the team query (its fetch closes the cursor).
MAX_SQLITE_TRIPS = 11


class Statements:
    """The statements and transactions the engine saw while counting."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self.transactions = 0

    def data(self) -> list[str]:
        """Return the statements that read or write rows (not ``BEGIN``)."""
        return [s for s in self.sql if not s.lstrip().upper().startswith("BEGIN")]


@contextmanager
def counting(api: Api) -> Iterator[Statements]:
    """Count what the app's engine executes inside the block."""
    engine = api.services.store.engine.sync_engine  # type: ignore[attr-defined]
    seen = Statements()

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.sql.append(statement)

    def on_begin(_conn: Any) -> None:
        seen.transactions += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "begin", on_begin)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "begin", on_begin)


async def test_a_jit_request_is_two_transactions_of_few_statements(
    api_on_each_database: Api,
) -> None:
    """Reserve and bind, nothing else: the principal lookup is cached, no row is read twice."""
    api = api_on_each_database
    await api.seed_team("alpha")
    await api.seed_client("alpha-ci", "alpha")
    machine = api.as_machine("alpha-ci")
    first = await api.provision(machine)
    assert 201 == first.status_code, first.text

    with counting(api) as seen:
        response = await api.provision(machine)

    assert 201 == response.status_code, response.text
    dialect = api.services.store.engine.dialect.name  # type: ignore[attr-defined]
    assert 2 == seen.transactions, seen.sql
    assert len(seen.data()) <= MAX_STATEMENTS[dialect], seen.data()
    reads = [s for s in seen.data() if s.lstrip().upper().startswith("SELECT")]
    assert 1 == len(reads), reads  # the team, once (and locked); the runner is never read back
    if dialect == "postgresql":
        assert "FOR UPDATE" in reads[0].upper(), reads


async def test_looking_up_a_caller_never_takes_the_write_lock(api: Api) -> None:
    """On SQLite the authentication lookup begins deferred; only writers say IMMEDIATE."""
    await api.seed_team("alpha")
    await api.seed_client("alpha-ci", "alpha")
    api.services.auth.forget_principals()

    with counting(api) as seen:
        response = await api.call("GET", "/api/v1/runners", api.as_machine("alpha-ci"))

    assert 200 == response.status_code, response.text
    begins = [s.strip().upper() for s in seen.sql if s.lstrip().upper().startswith("BEGIN")]
    assert begins, seen.sql
    assert "BEGIN" == begins[0], seen.sql


async def test_a_jit_request_on_sqlite_hands_its_thread_one_trip_per_write(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiosqlite's own cursors cost four trips per query and three per write: 27 per request."""
    await api.seed_team("alpha")
    await api.seed_client("alpha-ci", "alpha")
    machine = api.as_machine("alpha-ci")
    first = await api.provision(machine)
    assert 201 == first.status_code, first.text
    trips: list[str] = []
    handing = OneTripConnection._execute

    async def counted(self: OneTripConnection, function: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(function, "__name__", repr(function)))
        return await handing(self, function, *args, **kwargs)

    monkeypatch.setattr(OneTripConnection, "_execute", counted)
    with counting(api) as seen:
        response = await api.provision(machine)

    assert 201 == response.status_code, response.text
    assert len(trips) <= MAX_SQLITE_TRIPS, (trips, seen.sql)
