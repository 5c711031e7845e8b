"""The first cycle of a process resolves stuck reservations on SQLite and PostgreSQL.

Through ``bootstrap``: the first-cycle grace is the longest JIT call of the adapter it builds
(25 s, the default ``Timeouts.jit_call``), shorter here than the configured one-hour grace.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gharts_core.model import AuditAction, RunnerRecord, RunnerStatus, Team
from gharts_http.bootstrap import Services, bootstrap
from tests.integration.api_support import settings_for
from tests.unit.builders import audit_rows, make_runner, make_team, seed, stored_runner

LABELS = ("team-alpha",)


async def reserved(services: Services, name: str, age: timedelta, team: Team) -> RunnerRecord:
    """A ``provisioning`` row reserved ``age`` ago (by a process that is gone, or is slow)."""
    at = datetime.now(UTC) - age
    record = make_runner(team, name, status=RunnerStatus.PROVISIONING, labels=LABELS, at=at)
    await seed(services.store, record)
    return record


async def test_the_first_cycle_frees_what_a_crash_left_and_later_cycles_keep_the_grace(
    fresh_database_url: str,
) -> None:
    settings = settings_for(fresh_database_url, sync={"provisioning_grace_seconds": 3600})
    services = bootstrap(settings)
    try:
        assert services.simulator is not None
        team = make_team("alpha", required_labels=LABELS)
        await seed(services.store, team)
        services.simulator.register("crashed", list(LABELS))
        crashed = await reserved(services, "crashed", timedelta(seconds=300), team)
        lost = await reserved(services, "lost", timedelta(seconds=300), team)
        in_flight = await reserved(services, "in-flight", timedelta(seconds=10), team)

        first = await services.sync.run_cycle()
        later_row = await reserved(services, "later", timedelta(seconds=300), team)
        second = await services.sync.run_cycle()

        rows = [await stored_runner(services.store, r.id) for r in (crashed, lost, in_flight)]
        on_github = await services.github.list_runners()
        audited = await audit_rows(services.store, AuditAction.RUNNER_STATUS.value)
        later = await stored_runner(services.store, later_row.id)
    finally:
        await services.aclose()

    assert {"mark_deleted": 1, "remove_stuck_runner": 1} == first.actions
    deleted = (RunnerStatus.DELETED, "stuck_provisioning")
    expected = [deleted, deleted, (RunnerStatus.PROVISIONING, None)]
    assert expected == [(r.status, r.deleted_reason) for r in rows if r is not None]
    assert ([], 2) == ([r.name for r in on_github], len(audited))
    assert ({}, RunnerStatus.PROVISIONING) == (second.actions, later and later.status)
