"""Sync leadership on PostgreSQL: one advisory lock, several replicas, failover and shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from gharts_adapters.storage import create_engine, upgrade
from gharts_adapters.storage.leadership import SYNC_LOCK_KEY, AdvisoryLockLeadership
from gharts_core.model import AuditAction, ObservedRunner
from gharts_core.ports.github import (
    JitConfig,
    JitRequest,
    ListedPage,
    RateLimitStatus,
    RegistrationToken,
    RunnerPlatform,
)
from gharts_core.ports.storage import AuditFilter, Page
from gharts_http.bootstrap import Services, bootstrap
from tests.integration.api_support import Api, settings_for
from tests.integration.test_shared_simulator import SCOPE, simulator_process
from tests.integration.worker_support import api_in_loop, cycles, eventually, worker
from tests.postgres import require_postgres, temporary_database
from tests.processes import free_port

pytestmark = pytest.mark.postgres

INTERVAL = 0.2
GHARTS = (sys.executable, "-m", "gharts_http.cli")
TRIGGER = "/api/v1/admin/sync/trigger"
_HOLDERS = text(
    "SELECT l.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.objid = :key AND l.granted "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh migrated database: advisory locks are per database, so tests cannot collide."""
    require_postgres()
    with temporary_database(prefix="gharts_worker") as url:
        upgrade(url)
        yield url


class Probe:
    """Another session on the database: who holds the lock, cut a backend off, take the lock."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def holders(self) -> dict[int, str]:
        """Return the backends holding the sync lock, with their application names."""
        rows = await self.connection.execute(_HOLDERS, {"key": SYNC_LOCK_KEY})
        return {int(pid): str(name) for pid, name in rows}

    async def terminate(self, pid: int) -> None:
        """Kill a backend, as a network cut or a database restart would."""
        await self.connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    async def lock(self) -> bool:
        """Try to take the sync lock in this session."""
        statement = text("SELECT pg_try_advisory_lock(:key)")
        return bool(await self.connection.scalar(statement, {"key": SYNC_LOCK_KEY}))

    async def unlock(self) -> None:
        """Release the sync lock taken by :meth:`lock`."""
        await self.connection.execute(
            text("SELECT pg_advisory_unlock(:key)"), {"key": SYNC_LOCK_KEY}
        )


@pytest.fixture
async def probe(pg_url: str) -> AsyncIterator[Probe]:
    engine = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            yield Probe(connection)
    finally:
        await engine.dispose()


@pytest.fixture
async def api(pg_url: str) -> AsyncIterator[Api]:
    """Replica A: the API on PostgreSQL (no worker of its own unless a test starts one)."""
    async with api_in_loop(pg_url) as running:
        yield running


@asynccontextmanager
async def replica(
    api: Api, url: str, *, github: RunnerPlatform | None = None
) -> AsyncIterator[Services]:
    """Replica B: other services on the same database and the same (simulated) GitHub."""
    services = bootstrap(
        settings_for(url), identity=api.services.identity, github=github or api.services.github
    )
    try:
        yield services
    finally:
        await services.aclose()


def leader_gauge(services: Services) -> float:
    """Return this replica's ``gharts_sync_leader`` gauge."""
    return services.metrics.registry.get_sample_value("gharts_sync_leader") or 0.0


async def test_of_two_workers_exactly_one_leads(api: Api, pg_url: str, probe: Probe) -> None:
    """Both workers run; one holds the lock, runs the cycles and is named in the status."""
    lead_a = AdvisoryLockLeadership(pg_url, name="worker-a")
    lead_b = AdvisoryLockLeadership(pg_url, name="worker-b")
    async with AsyncExitStack() as stack:
        other = await stack.enter_async_context(replica(api, pg_url))
        await stack.enter_async_context(
            worker(api.services, interval=INTERVAL, leadership=lead_a, first_cycle=False)
        )
        await stack.enter_async_context(
            worker(other, interval=INTERVAL, leadership=lead_b, first_cycle=False)
        )
        await eventually(
            lambda: sorted((leader_gauge(api.services), leader_gauge(other))) == [0.0, 1.0],
            what="one leader",
        )
        await eventually(lambda: _cycles_at_least(api.services, 2), what="two cycles")
        holders = await probe.holders()
        leading = [lead.name for lead in (lead_a, lead_b) if lead.backend_pid in holders]
        state = await api.services.sync.status()

    assert 1 == len(holders)
    assert [state.leader] == leading


async def _cycles_at_least(services: Services, count: int) -> bool:
    return await cycles(services) >= count


async def test_other_worker_takes_over_when_the_leaders_connection_dies(
    api: Api, pg_url: str, probe: Probe
) -> None:
    """Cutting the leader's session frees the lock; the other worker leads within an interval."""
    lead_a = AdvisoryLockLeadership(pg_url, name="worker-a")
    lead_b = AdvisoryLockLeadership(pg_url, name="worker-b")
    async with replica(api, pg_url) as other:
        running_a = worker(api.services, interval=INTERVAL, leadership=lead_a)
        running_b = worker(other, interval=INTERVAL, leadership=lead_b, first_cycle=False)
        async with running_a, running_b:
            await eventually(lambda: lead_b.backend_pid is not None, what="worker-b connected")
            old_pid = lead_a.backend_pid
            assert old_pid is not None
            assert [old_pid] == list(await probe.holders())

            await probe.terminate(old_pid)
            took = await eventually(
                lambda: _holds(probe, lead_b), within=3 * INTERVAL, what="worker-b leading"
            )
            await eventually(lambda: leader_gauge(api.services) == 0.0, what="a steps down")
            before = await cycles(api.services)
            await eventually(lambda: _cycles_at_least(api.services, before + 1), what="a cycle")
            state = await api.services.sync.status()
            gauges = (leader_gauge(api.services), leader_gauge(other))

    assert took <= 3 * INTERVAL
    assert ("worker-b", (0.0, 1.0)) == (state.leader, gauges)


async def _holds(probe: Probe, lead: AdvisoryLockLeadership) -> bool:
    return lead.backend_pid is not None and lead.backend_pid in await probe.holders()


async def test_stopping_the_worker_releases_the_lock(api: Api, pg_url: str, probe: Probe) -> None:
    """After the stop event another session can take the lock, and no leader is named."""
    lead = AdvisoryLockLeadership(pg_url, name="worker-a")
    async with worker(api.services, interval=INTERVAL, leadership=lead) as running:
        held_while_running = await probe.lock()
        await running.halt()

    taken = await probe.lock()
    await probe.unlock()
    state = await api.services.sync.status()
    assert (False, True, None) == (held_while_running, taken, state.leader)


def _worker_config(tmp_path: Path, url: str, github: dict[str, Any]) -> Path:
    """``gharts worker``'s configuration: the GitHub App of a ``gharts simulator`` process."""
    config = tmp_path / "gharts.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n[github]\nmode = "app"\nscope = "{SCOPE}"\n'
        f'api_url = "{github["api_url"]}"\napp_id = {github["app_id"]}\n'
        f"installation_id = {github['installation_id']}\n"
        f'private_key_path = "{github["private_key_path"]}"\n'
    )
    return config


async def test_sigterm_stops_gharts_worker_gracefully(
    pg_url: str, probe: Probe, tmp_path: Path
) -> None:
    """``gharts worker`` leads, exits 0 on SIGTERM and leaves the lock free."""
    with simulator_process(tmp_path / "sim" / "github.json", free_port()) as github:
        config = _worker_config(tmp_path, pg_url, github)
        await _run_worker_until_sigterm(config, probe)


async def _run_worker_until_sigterm(config: Path, probe: Probe) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GHARTS_")}
    process = await asyncio.create_subprocess_exec(
        *GHARTS, "--config", str(config), "worker", "--interval", str(INTERVAL),
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await eventually(
            lambda: _worker_holds(probe), within=60.0, what="the worker process leading"
        )
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            _, errors = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    taken = await probe.lock()
    await probe.unlock()
    assert (0, True, b"") == (process.returncode, taken, errors)


async def _worker_holds(probe: Probe) -> bool:
    return "gharts-worker" in (await probe.holders()).values()


async def _trigger_rows(api: Api) -> list[dict[str, object]]:
    async with api.services.store.unit_of_work() as uow:
        found = await uow.audit.list(AuditFilter(action=AuditAction.SYNC_TRIGGER.value), Page())
    return [dict(row.details) for row in found.items]


async def test_trigger_asks_the_worker_leading_on_another_replica(api: Api, pg_url: str) -> None:
    """Replica A has no worker; B's worker leads and is woken up through NOTIFY."""
    async with replica(api, pg_url) as other, worker(other, interval=3600):
        before = await cycles(other)
        response = await api.call("POST", TRIGGER, api.as_admin(), expect=202)
        await eventually(lambda: _cycles_at_least(other, before + 1), what="the early cycle")

    assert {"status": "scheduled"} == response.json()
    assert [{"result": "scheduled"}] == await _trigger_rows(api)


async def test_non_leading_worker_passes_a_trigger_on_to_the_leader(api: Api, pg_url: str) -> None:
    """A's own worker does not lead, so the request it receives goes on to B's worker."""
    async with (
        replica(api, pg_url) as other,
        worker(other, interval=3600),
        worker(api.services, interval=3600, first_cycle=False),
    ):
        await eventually(lambda: leader_gauge(other) == 1.0, what="B leading")
        before = await cycles(other)
        response = await api.call("POST", TRIGGER, api.as_admin(), expect=202)
        await eventually(lambda: _cycles_at_least(other, before + 1), what="the early cycle")

    assert (0.0, {"status": "scheduled"}) == (leader_gauge(api.services), response.json())


async def test_trigger_is_refused_while_a_non_worker_holds_the_lock(api: Api, probe: Probe) -> None:
    """A cycle run elsewhere by a process that cannot be asked: 409 CONFLICT, audited."""
    assert await probe.lock()
    try:
        response = await api.call("POST", TRIGGER, api.as_admin(), expect=409)
    finally:
        await probe.unlock()

    assert "CONFLICT" == response.json()["error_code"]
    assert [{"result": "refused"}] == await _trigger_rows(api)


async def test_trigger_with_nobody_leading_runs_the_cycle_and_frees_the_lock(
    api: Api, probe: Probe
) -> None:
    """No worker anywhere: the cycle runs in the request, and the lock is free afterwards."""
    response = await api.call("POST", TRIGGER, api.as_admin(), expect=200)

    taken = await probe.lock()
    await probe.unlock()
    assert ("completed", True) == (response.json()["status"], taken)


class RecordedDeletes:
    """The shared GitHub as one worker sees it: its deletions logged, the first one held.

    ``held`` is set when the first deletion is entered; it waits for ``release`` before reaching
    GitHub. Without a gate (``release=None``) deletions pass straight through.
    """

    def __init__(
        self,
        inner: RunnerPlatform,
        worker_name: str,
        log: list[tuple[str, int]],
        release: asyncio.Event | None = None,
    ) -> None:
        self.inner, self.worker_name, self.log, self.release = inner, worker_name, log, release
        self.held = asyncio.Event()

    @property
    def registration_url(self) -> str:
        return self.inner.registration_url

    async def create_jit_config(self, request: JitRequest) -> JitConfig:
        return await self.inner.create_jit_config(request)

    async def create_registration_token(self) -> RegistrationToken:
        return await self.inner.create_registration_token()

    async def list_runners(self) -> Sequence[ObservedRunner]:
        return await self.inner.list_runners()

    def listed_pages(self) -> Sequence[ListedPage]:
        return self.inner.listed_pages()

    def remember_pages(self, pages: Sequence[ListedPage]) -> None:
        self.inner.remember_pages(pages)

    async def get_runner(self, github_runner_id: int) -> ObservedRunner | None:
        return await self.inner.get_runner(github_runner_id)

    async def delete_runner(self, github_runner_id: int) -> bool:
        self.log.append((self.worker_name, github_runner_id))
        if self.release is not None and not self.held.is_set():
            self.held.set()
            await self.release.wait()
        return await self.inner.delete_runner(github_runner_id)

    async def cancel_workflow_run(self, repository: str, run_id: int) -> None:
        await self.inner.cancel_workflow_run(repository, run_id)

    def rate_limit(self) -> RateLimitStatus:
        return self.inner.rate_limit()


def failed_cycles(services: Services) -> float:
    """Return this replica's count of aborted cycles."""
    registry = services.metrics.registry
    return registry.get_sample_value("gharts_sync_cycles_total", {"outcome": "failed"}) or 0.0


async def test_a_leader_cut_off_mid_cycle_stops_before_its_next_action(
    api: Api, pg_url: str, probe: Probe
) -> None:
    """Issue 12, finding 5: no action of the old leader overlaps the new leader's cycle."""
    await api.seed_team("alpha")
    await api.seed_user("dev@example.com", "alpha")
    drifted = []
    for _ in range(3):
        response = await api.provision(api.as_user("dev@example.com"), ["gpu-a100"])
        github_id = response.json()["github_runner_id"]
        api.simulator.set_online(github_id)
        api.simulator.relabel(github_id, ["team-alpha", "gpu-a100", "prod-secrets"])
        drifted.append(github_id)
    deletes: list[tuple[str, int]] = []
    release = asyncio.Event()
    github_a = RecordedDeletes(api.services.github, "worker-a", deletes, release)
    github_b = RecordedDeletes(api.services.github, "worker-b", deletes)
    lead_a = AdvisoryLockLeadership(pg_url, name="worker-a")
    lead_b = AdvisoryLockLeadership(pg_url, name="worker-b")
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(replica(api, pg_url, github=github_a))
        b = await stack.enter_async_context(replica(api, pg_url, github=github_b))
        await stack.enter_async_context(
            worker(a, interval=3600, leadership=lead_a, first_cycle=False)
        )
        await eventually(github_a.held.is_set, what="worker-a deleting its first runner")
        assert lead_a.backend_pid is not None
        await probe.terminate(lead_a.backend_pid)

        await stack.enter_async_context(
            worker(b, interval=3600, leadership=lead_b, first_cycle=False)
        )
        await eventually(lambda: _led_by(b, "worker-b"), what="worker-b's cycle")
        release.set()
        await eventually(lambda: failed_cycles(a) == 1, what="worker-a's cycle stopping")
        state = await b.sync.status()

    by_a = [runner for name, runner in deletes if name == "worker-a"]
    by_b = sorted(runner for name, runner in deletes if name == "worker-b")
    assert 1 == len(by_a)  # the deletion in flight when the lock went; nothing after it
    assert sorted(drifted) == by_b
    assert ("worker-b", 1) == (state.leader, state.cycles)
    assert [] == [r for r in api.simulator.runners() if r["id"] in drifted]


async def _led_by(services: Services, name: str) -> bool:
    state = await services.sync.status()
    return state.leader == name and state.cycles >= 1
