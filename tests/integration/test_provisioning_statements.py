"""What one JIT request costs the database: statements, transactions, and no read under the lock.

Counted with SQLAlchemy's ``before_cursor_execute`` and ``begin`` events on the app's own engine,
for a warmed-up caller (its principal cached, as on every request but the first of a few
seconds). Counts, never timings.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from gharts_adapters.storage._sqlite_driver import LoopThreadConnection
from tests.integration.api_support import Api

#: The reservation (the team, read locked on PostgreSQL; the runner, whose labels the database's
#: trigger writes; the first transition) and the bind (compare-and-set update, transition, audit).
#: PostgreSQL writes a runner and its transition in one statement (a data-modifying CTE), and
#: the bind's update, transition and audit row in one more.
MAX_STATEMENTS = {"sqlite": 6, "postgresql": 3}
#: SQLite calls that may wait for a lock: per transaction BEGIN and COMMIT, and each statement.
SQLITE_CALLS = 2 * 2 + MAX_STATEMENTS["sqlite"]


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
    machine = await api.warmed_machine("alpha-ci", "alpha")

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


async def test_a_jit_request_on_sqlite_calls_sqlite_on_the_loops_own_thread(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No hand-off to another thread: aiosqlite's cost a quarter of a request's CPU."""
    machine = await api.warmed_machine("alpha-ci", "alpha")
    calls: list[tuple[int, int]] = []  # (the loop's thread, the thread SQLite was called on)
    calling = LoopThreadConnection.patiently

    async def counted(self: LoopThreadConnection, function: Any, *args: Any) -> Any:
        loop_thread = threading.get_ident()

        def called(*arguments: Any) -> Any:
            calls.append((loop_thread, threading.get_ident()))
            return function(*arguments)

        return await calling(self, called, *args)

    monkeypatch.setattr(LoopThreadConnection, "patiently", counted)
    with counting(api) as seen:
        response = await api.provision(machine)

    assert 201 == response.status_code, response.text
    assert SQLITE_CALLS == len(calls), seen.sql
    assert [] == [call for call in calls if call[0] != call[1]]
