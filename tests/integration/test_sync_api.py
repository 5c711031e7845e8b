"""``/api/v1/admin/sync``: the status for admins, and a trigger that schedules or runs a cycle."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gharts_adapters.github.simulator.faults import Faults
from gharts_adapters.storage.leadership import SingleProcessLeadership
from gharts_core.model import AuditAction
from gharts_core.ports.storage import AuditFilter, Page
from tests.integration.api_support import Api
from tests.integration.worker_support import api_in_loop, cycles, eventually, worker

STATUS = "/api/v1/admin/sync/status"
TRIGGER = "/api/v1/admin/sync/trigger"


@pytest.fixture
async def api(sqlite_url: str) -> AsyncIterator[Api]:
    """The app on SQLite, served on the test's loop where a worker may run too."""
    async with api_in_loop(sqlite_url) as running:
        yield running


async def trigger_rows(api: Api) -> list[dict[str, object]]:
    """Return the details of the ``sync.trigger`` audit rows, oldest first."""
    async with api.services.store.unit_of_work() as uow:
        found = await uow.audit.list(AuditFilter(action=AuditAction.SYNC_TRIGGER.value), Page())
    return [dict(row.details) for row in reversed(found.items)]


async def test_status_before_any_cycle_is_empty(api: Api) -> None:
    """A fresh installation has no leader, no heartbeat and no last run."""
    response = await api.call("GET", STATUS, api.as_admin(), expect=200)

    expected = {
        "leader": None,
        "heartbeat_at": None,
        "heartbeat_age_seconds": None,
        "interval_seconds": 120,
        "worker_in_process": False,
        "cycles": 0,
        "last_run": None,
    }
    assert expected == response.json()


@pytest.mark.parametrize(("method", "path"), [("GET", STATUS), ("POST", TRIGGER)])
async def test_non_admins_are_refused(api: Api, method: str, path: str) -> None:
    """A team member gets ADMIN_REQUIRED; nothing runs."""
    await api.seed_team("alpha")
    await api.seed_user("dev@example.com", "alpha")

    response = await api.call(method, path, api.as_user("dev@example.com"), expect=403)

    assert ("ADMIN_REQUIRED", 0) == (response.json()["error_code"], await cycles(api.services))


@pytest.mark.parametrize(("method", "path"), [("GET", STATUS), ("POST", TRIGGER)])
async def test_anonymous_callers_are_refused(api: Api, method: str, path: str) -> None:
    """Without a token the answer is INVALID_TOKEN."""
    response = await api.call(method, path, expect=401)

    assert "INVALID_TOKEN" == response.json()["error_code"]


async def test_trigger_without_a_worker_runs_the_cycle_and_returns_its_report(api: Api) -> None:
    """Nobody leads (SQLite, no worker here), so the cycle runs within the request."""
    await api.seed_team("alpha")
    await api.seed_user("dev@example.com", "alpha")
    runner = (await api.provision(api.as_user("dev@example.com"))).json()
    api.simulator.set_online(runner["github_runner_id"])

    response = await api.call("POST", TRIGGER, api.as_admin(), expect=200)

    body = response.json()
    report = body["report"]
    assert ("completed", {"change_status": 1}, [], 1) == (
        body["status"],
        report["actions"],
        report["errors"],
        report["observed"],
    )
    assert [{"result": "ran", "actions": {"change_status": 1}, "errors": 0}] == (
        await trigger_rows(api)
    )


async def test_inline_cycle_does_not_claim_leadership(api: Api) -> None:
    """A cycle run by the trigger is counted but names no leader: no worker runs."""
    await api.call("POST", TRIGGER, api.as_admin(), expect=200)

    body = (await api.call("GET", STATUS, api.as_admin(), expect=200)).json()

    assert (None, 1) == (body["leader"], body["cycles"])
    assert body["last_run"]["finished_at"] is not None


async def test_trigger_with_a_worker_in_process_schedules_a_cycle(api: Api) -> None:
    """The worker beside the API is woken up: 202 scheduled, then one more cycle runs."""
    async with worker(api.services, leadership=SingleProcessLeadership("worker-1")):
        before = await cycles(api.services)
        response = await api.call("POST", TRIGGER, api.as_admin(), expect=202)
        await eventually(lambda: _cycles_above(api, before), what="the cycle the trigger scheduled")
        status = (await api.call("GET", STATUS, api.as_admin(), expect=200)).json()

    assert {"status": "scheduled"} == response.json()
    assert ("worker-1", True) == (status["leader"], status["worker_in_process"])
    assert [{"result": "scheduled"}] == await trigger_rows(api)


async def _cycles_above(api: Api, count: int) -> bool:
    return await cycles(api.services) > count


async def test_trigger_reports_a_failed_github_listing(api: Api) -> None:
    """GitHub failing the listing answers with its error; the failed cycle is still recorded."""
    api.simulator.set_faults(Faults(status=404))
    response = await api.call("POST", TRIGGER, api.as_admin(), expect=502)

    status = (await api.call("GET", STATUS, api.as_admin(), expect=200)).json()
    assert "GITHUB_UNAVAILABLE" == response.json()["error_code"]
    assert (1, 1) == (status["cycles"], len(status["last_run"]["errors"]))
