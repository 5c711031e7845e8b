"""Running the sync worker in tests, and waiting on conditions with a bounded poll loop.

Import it as ``tests.integration.worker_support``::

    async with worker(api.services, interval=3600) as running:
        await next_cycle(api.services)

Litestar's test client runs the app on an event loop of its own, in another thread, while a
worker started by the test runs on the test's loop. asyncpg connections belong to one loop, so
tests that share a PostgreSQL store between requests and a worker use :func:`api_in_loop`: the
app served by httpx's ASGI transport on the test's own loop, as uvicorn would serve it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

import attrs
import httpx

from gharts_adapters.identity import DevIssuer, JwtVerifier
from gharts_adapters.storage.leadership import Leadership, leadership_for
from gharts_http.api.app import create_app
from gharts_http.bootstrap import Services, bootstrap
from gharts_http.metrics.worker import WorkerMetrics
from gharts_http.worker import run_worker
from tests.integration.api_support import ISSUER_URL, Api, settings_for

DEADLINE_SECONDS = 15.0
POLL_SECONDS = 0.01


async def eventually(
    condition: Callable[[], Awaitable[bool]] | Callable[[], bool],
    *,
    within: float = DEADLINE_SECONDS,
    what: str = "the condition",
) -> float:
    """Poll ``condition`` until it holds; return the seconds it took, fail after ``within``."""
    started = time.monotonic()
    while True:
        result: Any = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise AssertionError(f"{what} did not hold within {within} s")
        await asyncio.sleep(POLL_SECONDS)


async def cycles(services: Services) -> int:
    """Return how many cycles the shared sync state counts."""
    return (await services.sync.status()).cycles


@attrs.define
class RunningWorker:
    """A worker task and the event that stops it."""

    task: asyncio.Task[None]
    stop: asyncio.Event

    async def halt(self) -> None:
        """Set the stop event and wait (bounded) for the worker to return."""
        self.stop.set()
        async with asyncio.timeout(DEADLINE_SECONDS):
            await self.task


@asynccontextmanager
async def worker(
    services: Services,
    *,
    interval: float = 3600.0,
    leadership: Leadership | None = None,
    stop_grace: float = 5.0,
    first_cycle: bool = True,
) -> AsyncIterator[RunningWorker]:
    """Run :func:`run_worker` in a task; with ``first_cycle``, wait for its first cycle."""
    stop = asyncio.Event()
    before = await cycles(services) if first_cycle else 0
    task = asyncio.create_task(
        run_worker(
            services.sync,
            leadership=leadership or leadership_for(services.settings.database.url),
            requests=services.sync_requests,
            metrics=WorkerMetrics.of(services.metrics.registry),
            interval=interval,
            stop=stop,
            stop_grace=stop_grace,
        )
    )
    running = RunningWorker(task, stop)
    try:
        if first_cycle:
            await eventually(lambda: _more_than(services, before), what="the worker's first cycle")
        yield running
    finally:
        if not task.done():
            await running.halt()


async def _more_than(services: Services, count: int) -> bool:
    return await cycles(services) > count


async def next_cycle(services: Services) -> None:
    """Ask the in-process worker for a cycle and wait until one more has been recorded."""
    before = await cycles(services)
    assert services.sync_requests.request(), "no worker listens in this process"
    await eventually(lambda: _more_than(services, before), what="an early cycle")


@asynccontextmanager
async def api_in_loop(database_url: str, **sections: Any) -> AsyncIterator[Api]:
    """Like ``api_support.running_api``, with the app on the test's event loop."""
    issuer = DevIssuer(ISSUER_URL)
    async with httpx.AsyncClient(transport=issuer.transport()) as identity_client:
        verifier = JwtVerifier([issuer.issuer_config()], identity_client)
        services = bootstrap(settings_for(database_url, **sections), identity=verifier)
        try:
            app = create_app(services)
            transport = httpx.ASGITransport(app=cast("Any", app))
            # No lifespan: pytest may finish an async fixture in another task than it started
            # it in, which anyio's cancel scopes refuse; the app has no start-up hooks anyway.
            base_url = "http://gharts.test"
            async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
                yield Api(app, cast("Any", http), services, issuer)
        finally:
            await services.aclose()
