"""The sync worker on SQLite and the GitHub simulator: what a cycle does, and how the loop runs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from gharts_adapters.github.simulator.faults import Faults
from gharts_adapters.storage.leadership import SingleProcessLeadership
from gharts_core.model import (
    Actor,
    AuditAction,
    Principal,
    ProvisionMethod,
    RunnerRecord,
    RunnerStatus,
    SecurityEventType,
)
from gharts_core.ports.storage import AuditFilter, Page, SecurityEventFilter
from tests.integration.api_support import Api
from tests.integration.worker_support import api_in_loop, cycles, eventually, next_cycle, worker


async def provisioned(api: Api) -> dict[str, Any]:
    """Provision a JIT runner for a member of team ``alpha``; return the API's answer."""
    await api.seed_team("alpha")
    await api.seed_user("dev@example.com", "alpha")
    response = await api.provision(api.as_user("dev@example.com"), ["gpu-a100"])
    assert 201 == response.status_code, response.text
    body: dict[str, Any] = response.json()
    return body


async def runner_status(api: Api, runner_id: str) -> str:
    """Return the runner's status as the API shows it."""
    response = await api.call("GET", f"/api/v1/runners/{runner_id}", api.as_admin(), expect=200)
    status: str = response.json()["status"]
    return status


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    """Return a metric sample's value (0 when it has not been recorded)."""
    return registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def api(sqlite_url: str) -> AsyncIterator[Api]:
    """The app on SQLite, served on the test's loop where the worker runs too."""
    async with api_in_loop(sqlite_url) as running:
        yield running


@pytest.fixture
async def busy_removing_api(sqlite_url: str) -> AsyncIterator[Api]:
    """The app configured to remove drifted runners even while they run a job."""
    async with api_in_loop(sqlite_url, sync={"delete_busy_drifted": True}) as running:
        yield running


async def test_first_cycle_runs_at_once_and_names_the_leader(api: Api) -> None:
    """The worker reconciles on start and the status shows it as the leader, in process."""
    async with worker(api.services, leadership=SingleProcessLeadership("worker-1")):
        response = await api.call("GET", "/api/v1/admin/sync/status", api.as_admin(), expect=200)

    body = response.json()
    expected = ("worker-1", True, 1, [])
    assert expected == (
        body["leader"],
        body["worker_in_process"],
        body["cycles"],
        body["last_run"]["errors"],
    )
    assert body["heartbeat_at"] == body["last_run"]["finished_at"]


async def test_runner_that_comes_online_on_github_is_marked_online(api: Api) -> None:
    """A JIT runner GitHub reports online moves from pending to online."""
    runner = await provisioned(api)
    async with worker(api.services):
        api.simulator.set_online(runner["github_runner_id"])
        await next_cycle(api.services)

        assert "online" == await runner_status(api, runner["runner_id"])


async def test_relabelled_idle_runner_is_removed_and_audited(api: Api) -> None:
    """An idle runner whose labels drifted is deleted on GitHub, retired and audited."""
    runner = await provisioned(api)
    github_id = runner["github_runner_id"]
    async with worker(api.services):
        api.simulator.set_online(github_id)
        api.simulator.relabel(github_id, ["team-alpha", "gpu-a100", "prod-secrets"])
        await next_cycle(api.services)

    async with api.services.store.unit_of_work() as uow:
        rows = await uow.audit.list(AuditFilter(action=AuditAction.RUNNER_DRIFT.value), Page())
    assert "deleted" == await runner_status(api, runner["runner_id"])
    assert [] == [r for r in api.simulator.runners() if r["id"] == github_id]
    assert [["prod-secrets"]] == [row.details["unexpected_labels"] for row in rows.items]


async def drift_events(api: Api) -> list[dict[str, Any]]:
    """Return the details of every ``label_drift`` security event."""
    query = SecurityEventFilter(type=SecurityEventType.LABEL_DRIFT)
    async with api.services.store.unit_of_work() as uow:
        found = await uow.security_events.list(query, Page())
    return [dict(event.details) for event in found.items]


async def test_busy_drifted_runner_is_reported_and_left_running(api: Api) -> None:
    """A drifted runner that runs a job is reported, not removed (the default)."""
    runner = await provisioned(api)
    github_id = runner["github_runner_id"]
    async with worker(api.services):
        api.simulator.set_busy(github_id)
        api.simulator.relabel(github_id, ["team-alpha", "gpu-a100", "prod-secrets"])
        await next_cycle(api.services)

    events = await drift_events(api)
    assert "busy" == await runner_status(api, runner["runner_id"])
    assert [github_id] == [r["id"] for r in api.simulator.runners()]
    assert [(True, False)] == [(event["busy"], event["removed"]) for event in events]


async def test_busy_drifted_runner_is_removed_when_configured(busy_removing_api: Api) -> None:
    """With ``sync.delete_busy_drifted`` the busy drifted runner is removed too."""
    api = busy_removing_api
    runner = await provisioned(api)
    github_id = runner["github_runner_id"]
    async with worker(api.services):
        api.simulator.set_busy(github_id)
        api.simulator.relabel(github_id, ["team-alpha", "gpu-a100", "prod-secrets"])
        await next_cycle(api.services)

    events = await drift_events(api)
    assert "deleted" == await runner_status(api, runner["runner_id"])
    assert [] == api.simulator.runners()
    assert [(True, True)] == [(event["busy"], event["removed"]) for event in events]


async def test_runner_that_vanished_from_github_is_marked_deleted(api: Api) -> None:
    """A runner GitHub forgot (after it was seen online) is retired."""
    runner = await provisioned(api)
    async with worker(api.services):
        api.simulator.set_online(runner["github_runner_id"])
        await next_cycle(api.services)
        api.simulator.vanish(runner["github_runner_id"])
        await next_cycle(api.services)

        assert "deleted" == await runner_status(api, runner["runner_id"])


async def test_stuck_provisioning_row_is_resolved(api: Api) -> None:
    """A row left in ``provisioning`` (a crash before GitHub answered) is marked deleted."""
    await api.seed_team("alpha")
    team = await api.services.teams.get_team(Principal.system(), "alpha")
    long_ago = api.services.clock.now() - timedelta(hours=1)
    stuck = RunnerRecord(
        id=uuid.uuid4(),
        name="stuck-1",
        team_id=team.id,
        team_name=team.name,
        labels=("team-alpha",),
        runner_group_id=1,
        status=RunnerStatus.PROVISIONING,
        method=ProvisionMethod.JIT,
        created_by=Actor.system(),
        created_at=long_ago,
        updated_at=long_ago,
    )
    async with api.services.store.unit_of_work() as uow:
        await uow.runners.reserve(stuck, None)

    async with worker(api.services):
        assert "deleted" == await runner_status(api, str(stuck.id))

    state = await api.services.sync.status()
    assert state.last_report is not None
    assert {"mark_deleted": 1} == dict(state.last_report.actions)


async def test_failed_cycle_is_counted_and_the_worker_goes_on(api: Api) -> None:
    """GitHub failing a listing costs one cycle, not the worker."""
    registry = api.services.metrics.registry
    async with worker(api.services) as running:
        api.simulator.set_faults(Faults(status=404))
        await next_cycle(api.services)
        api.simulator.clear_faults()
        await next_cycle(api.services)

        assert not running.task.done()

    failed = sample(registry, "gharts_sync_cycles_total", outcome="failed")
    ok = sample(registry, "gharts_sync_cycles_total", outcome="ok")
    state = await api.services.sync.status()
    assert state.last_report is not None
    assert (1.0, 2.0, 3, ()) == (failed, ok, state.cycles, state.last_report.errors)


async def test_metrics_count_cycles_actions_and_leadership(api: Api) -> None:
    """Cycle durations, actions by kind and the leader gauge are on the app's registry."""
    registry = api.services.metrics.registry
    runner = await provisioned(api)
    async with worker(api.services):
        leading = sample(registry, "gharts_sync_leader")
        api.simulator.set_online(runner["github_runner_id"])
        await next_cycle(api.services)

    expected = (1.0, 0.0, 1.0, 2.0)
    assert expected == (
        leading,
        sample(registry, "gharts_sync_leader"),
        sample(registry, "gharts_sync_actions_total", kind="change_status"),
        sample(registry, "gharts_sync_cycle_duration_seconds_count"),
    )


async def test_stop_ends_the_worker_and_clears_its_leadership(api: Api) -> None:
    """After the stop event the worker no longer listens and the status names no leader."""
    async with worker(api.services) as running:
        await running.halt()

    state = await api.services.sync.status()
    assert (False, None, 1) == (api.services.sync_requests.listening, state.leader, state.cycles)


async def test_stop_during_a_slow_cycle_abandons_it_after_the_grace(api: Api) -> None:
    """A cycle stuck on GitHub does not hold the shutdown beyond the grace period."""
    api.simulator.set_faults(Faults(timeout=True))
    async with worker(api.services, stop_grace=0.05, first_cycle=False) as running:
        await eventually(lambda: api.simulator.calls["list_runners"] > 0, what="a listing")
        await running.halt()

    assert (True, 0) == (running.task.done(), await cycles(api.services))


async def test_worker_restarts_on_the_same_services(api: Api) -> None:
    """Stopping and starting a worker again (dev mode reloads) reuses its metrics."""
    async with worker(api.services):
        pass
    async with worker(api.services):
        await next_cycle(api.services)

    assert 3 == await cycles(api.services)
