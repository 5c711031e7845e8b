"""A restarted worker keeps its ETags: the listing's pages live with the sync state.

A worker (or ``gharts sync --once``) starting in a new process reads the pages the last cycle
kept and sends their ETags, so GitHub answers ``304`` for every page that did not change, and the
cycle writes nothing for them. On SQLite and PostgreSQL, with the real adapter and the simulator.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import event

from gharts_adapters.github import TokenCache
from gharts_adapters.github.platform import build_runner_platform
from gharts_adapters.github.simulator.wiring import SimulatedGitHub, simulated_github
from gharts_adapters.storage import create_store
from gharts_core.services.sync import SyncService
from gharts_core.testing.clock import FakeClock

RUNNERS = 250  # three pages of 100


def _list_statuses(github: SimulatedGitHub) -> Counter[int]:
    return Counter(
        {s: n for (name, s), n in github.simulator.responses.items() if name == "list_runners"}
    )


def _restarted(github: SimulatedGitHub) -> SimulatedGitHub:
    """The same GitHub, seen by a new process: a new adapter with nothing cached."""
    platform = build_runner_platform(github.settings, github.client, token_cache=TokenCache())
    return SimulatedGitHub(github.simulator, github.app, github.client, github.settings, platform)


async def test_a_restarted_worker_lists_unchanged_pages_as_304s_and_writes_nothing(
    fresh_database_url: str,
) -> None:
    clock = FakeClock()
    store = create_store(fresh_database_url)
    try:
        async with simulated_github(scope="org:restart") as github:
            for i in range(RUNNERS):
                github.simulator.register(f"unmanaged-{i:03}", ["x"])
            await SyncService(store, github.platform, clock).run_cycle()
            before = _list_statuses(github)

            writes: list[str] = []

            def on_execute(_conn: object, _cursor: object, statement: str, *_: object) -> None:
                if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
                    writes.append(statement)

            engine = store.engine.sync_engine
            event.listen(engine, "before_cursor_execute", on_execute)
            try:
                restarted = _restarted(github)
                await SyncService(store, restarted.platform, clock).run_cycle()
            finally:
                event.remove(engine, "before_cursor_execute", on_execute)
            after = _list_statuses(github) - before
    finally:
        await store.close()

    assert {200: 3} == dict(before)
    assert {304: 3} == dict(after)
    assert not [w for w in writes if "sync_listed_pages" in w], writes
