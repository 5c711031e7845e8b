"""Concurrent writers of one runner: ``deleted`` is terminal on SQLite and PostgreSQL.

Issue 12, finding 7: on PostgreSQL a refresh racing a delete of the same runner (GitHub answering
in 500 ms) ended with the runner ``online`` in the database and gone from GitHub; its transitions
read ``pending -> online``, ``pending -> deleted``, ``pending -> online``, each written from a
stale read. Every status write is now a compare-and-set on the status it read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from gharts_adapters.github.simulator import Faults
from gharts_core.model import RunnerRecord, RunnerStatus
from gharts_core.services.webhook import WorkflowJobEvent
from gharts_http.bootstrap import bootstrap
from tests.integration.api_support import settings_for
from tests.unit.builders import (
    make_runner,
    make_team,
    make_user,
    seed,
    transitions,
    user_principal,
)

RUNNERS = 12
LATENCY_MS = 40  # GitHub answers slowly: the writers' reads and writes interleave


async def test_no_writer_brings_a_deleted_runner_back(fresh_database_url: str) -> None:
    services = bootstrap(settings_for(fresh_database_url))
    try:
        assert services.simulator is not None
        simulator = services.simulator
        team = make_team("backend")
        admin = make_user("root@example.com", is_admin=True)
        runners = []
        for index in range(RUNNERS):
            observed = simulator.register(f"r-{index}", ["gpu-a"], status="offline", ephemeral=True)
            simulator.set_online(observed["id"])
            runners.append(make_runner(team, f"r-{index}", github_runner_id=observed["id"]))
        await seed(services.store, team, admin, *runners)
        principal = user_principal(admin)
        simulator.set_faults(Faults(latency_ms=LATENCY_MS))

        def writers(runner: RunnerRecord, index: int) -> list[Awaitable[object]]:
            completed = WorkflowJobEvent(
                delivery_id=f"d-{index}",
                action="completed",
                repository="octo/app",
                run_id=index,
                job_id=index,
                runner_id=runner.github_runner_id,
                runner_name=runner.name,
            )
            return [
                services.runners.refresh(principal, runner.id),
                services.runners.deprovision(principal, runner.id),
                services.runners.refresh(principal, runner.id),
                services.webhooks.handle(completed),
            ]

        work = [w for i, runner in enumerate(runners) for w in writers(runner, i)]
        results = await asyncio.gather(
            *work, services.sync.run_cycle(), services.sync.run_cycle(), return_exceptions=True
        )
        simulator.clear_faults()
        histories = [await transitions(services.store, runner.id) for runner in runners]
        async with services.store.unit_of_work() as uow:
            final = [await uow.runners.get(runner.id) for runner in runners]
    finally:
        await services.aclose()

    unexpected = [r for r in results if isinstance(r, BaseException)]
    out_of_deleted = [
        (t.from_status, t.to_status, t.source.value)
        for history in histories
        for t in history
        if t.from_status is RunnerStatus.DELETED
    ]
    after_deletion = [
        len(history) - 1 - next(i for i, t in enumerate(history) if t.to_status.value == "deleted")
        for history in histories
    ]
    assert [] == unexpected
    assert [] == out_of_deleted
    assert [0] * RUNNERS == after_deletion  # the deletion is each runner's last transition
    assert [RunnerStatus.DELETED] * RUNNERS == [r.status for r in final if r is not None]
