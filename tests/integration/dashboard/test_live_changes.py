"""Runner changes of the serving process reach the dashboard's open pages at once (SQLite).

Each step watches with the cross-process check set to an hour, so the in-process announcement of
the store is the only way a change can arrive. A fresh watch per step: the store announces at
commit, so a new subscription hears only what is committed after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from gharts_adapters.storage import SqlStore
from gharts_adapters.storage.changes import runner_changes
from gharts_core.services.provision import ProvisionJitRunner
from gharts_http.cli.dev.seed import DEV_ADMIN_EMAIL
from gharts_http.dashboard.live import RunnerChanges
from tests.integration.dashboard.dashboard_support import DevDashboard

AN_HOUR = 3600.0
TIMEOUT = 20.0


@asynccontextmanager
async def _listening(store: SqlStore) -> AsyncIterator[Callable[[], Awaitable[int]]]:
    """Open a page's wait on a new watch; yield once the watch listens to the store."""
    changes = RunnerChanges(lambda: runner_changes(store, cross_process_interval=AN_HOUR))
    before = store.runner_writes.listeners
    waiting = asyncio.ensure_future(changes.wait(0, TIMEOUT))
    try:
        async with asyncio.timeout(TIMEOUT):
            # The watch subscribes in its task's first steps; nothing to await but the count.
            while store.runner_writes.listeners == before:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        yield lambda: waiting
    finally:
        waiting.cancel()
        await changes.close()


async def test_the_sync_worker_and_an_api_delete_reach_the_open_pages_at_once(
    dev: DevDashboard,
) -> None:
    services = dev.services
    assert isinstance(services.store, SqlStore)
    principal = await services.auth.authenticate(dev.issuer.mint_user_token(DEV_ADMIN_EMAIL))
    provisioned = await services.provisioning.provision_jit(
        principal, ProvisionJitRunner(runner_name_prefix="live", team_name="demo")
    )
    runner = provisioned.runner
    assert services.simulator is not None
    assert runner.github_runner_id is not None
    services.simulator.set_online(runner.github_runner_id)

    async with _listening(services.store) as version:
        report = await services.sync.run_cycle()
        synced = await version()
    async with _listening(services.store) as version:
        token = dev.issuer.mint_user_token(DEV_ADMIN_EMAIL)
        deleted = await dev.http.delete(
            f"/api/v1/runners/{runner.id}", headers={"Authorization": f"Bearer {token}"}
        )
        after_delete = await version()

    assert report.actions  # the cycle moved the runner online
    assert deleted.status_code < 300
    assert synced > 0, "the sync cycle's change did not reach the page"
    assert after_delete > 0, "the API delete did not reach the page"
