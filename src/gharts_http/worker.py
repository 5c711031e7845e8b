"""The sync worker: one reconciliation cycle at once, then every interval, until told to stop.

:func:`run_worker` is what ``gharts worker``, ``gharts serve --with-worker`` and ``gharts dev``
run. Each round it takes (or confirms) leadership (:mod:`gharts_adapters.storage.leadership`); the
leader runs :meth:`SyncService.run_cycle <gharts_core.services.sync.SyncService.run_cycle>` under
its name, which records the report and the heartbeat that ``GET /api/v1/admin/sync/status`` shows.
Between rounds it waits for the interval, for an early request (the trigger endpoint through
``requests``, or another process through the leadership), or for ``stop``. A non-
leader asked for a cycle in its own process passes the request on to the leader.

The cycle is fenced: before each action it asks ``leadership.holds()``, and a worker that lost
the lock mid-cycle stops there (``sync_cycle_fenced``) instead of writing beside the new leader.

Failures never end the loop: a failed cycle or an unreachable database is logged and counted, and
the next round tries again. On ``stop`` the current cycle may finish within ``stop_grace``
seconds, then it is cancelled (its unit of work rolls back; the next cycle derives its actions
afresh); the worker then clears its name from the sync state and releases leadership.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

import structlog

from gharts_adapters.storage.leadership import TRIGGER_APPLICATION, Leadership, leadership_for
from gharts_core.errors import Conflict, GhartsError
from gharts_core.model import Principal, SyncReport
from gharts_core.services.sync import SyncService, TriggerOutcome
from gharts_http.metrics.worker import WorkerMetrics
from gharts_http.sync_requests import SyncRequests

__all__ = ["DEFAULT_STOP_GRACE_SECONDS", "run_cycle_once", "run_worker", "trigger_cycle"]

DEFAULT_STOP_GRACE_SECONDS = 20.0

_log = structlog.get_logger("gharts.worker")


async def run_worker(
    sync: SyncService,
    *,
    leadership: Leadership,
    requests: SyncRequests,
    metrics: WorkerMetrics,
    interval: float,
    stop: asyncio.Event,
    stop_grace: float = DEFAULT_STOP_GRACE_SECONDS,
) -> None:
    """Run sync cycles every ``interval`` seconds until ``stop`` is set; return after resigning.

    ``requests`` brings early cycles asked for in this process; ``leadership`` decides whether
    this process may run them. Close what ``sync`` uses only after this returns.
    """
    lead = leadership
    period = float(interval)
    log = _log.bind(worker=lead.name)
    lead.on_request(requests.request)
    requests.listening = True
    log.info("sync_worker_started", interval_seconds=period)
    leading: bool | None = None
    requested = False
    try:
        while not stop.is_set():
            was_leading, leading = leading, await _acquire(lead, log)
            metrics.leader.set(1 if leading else 0)
            if leading is not was_leading:
                log.info("sync_leadership", leading=leading)
            if leading:
                await _cycle(sync, lead, metrics, stop, stop_grace)
            elif requested:
                await _forward(lead, log)
            requested = await _wait(requests, stop, period)
    finally:
        requests.listening = False
        metrics.leader.set(0)
        try:
            await sync.resign(lead.name)
        except Exception as error:  # shutting down: the next leader overwrites the name anyway
            log.warning("sync_resign_failed", error=repr(error))
        await lead.release()
        log.info("sync_worker_stopped")


async def run_cycle_once(
    sync: SyncService,
    *,
    database_url: str,
    metrics: WorkerMetrics,
    ask_leader: bool,
    run_here: bool = True,
) -> SyncReport | None:
    """Run one cycle in this process if it can lead on ``database_url``, and return its report.

    When another process leads: with ``ask_leader``, ask it for an early cycle and return
    ``None``; raise :class:`~gharts_core.errors.Conflict` when it cannot be asked (or when not
    ``ask_leader``). Without ``run_here`` the cycle is only ever asked of a leader elsewhere,
    and ``Conflict`` means none could be asked. Raise the cycle's own errors (GitHub listing,
    database).
    """
    lead = leadership_for(database_url, application_name=TRIGGER_APPLICATION)
    try:
        if run_here and await lead.acquire():
            return await _timed(sync.run_cycle(fence=lead.holds), metrics)
        if ask_leader and await lead.request_cycle():
            return None
    finally:
        await lead.release()
    if not run_here:
        raise Conflict("No worker leads that could be asked for a cycle.")
    raise Conflict("Another worker leads; it runs at its next interval.")


async def trigger_cycle(
    sync: SyncService,
    principal: Principal,
    *,
    requests: SyncRequests | None,
    database_url: str,
    metrics: WorkerMetrics,
    run_here: bool = True,
) -> SyncReport | None:
    """Ask for a sync cycle on behalf of ``principal`` (the API's, dashboard's and CLI's trigger).

    A worker in this process (``requests``) is woken first, then one leading elsewhere; with
    none, the cycle runs here unless ``run_here`` is false. Return ``None`` when a worker was
    asked, else the report of the cycle that ran. Every outcome is audited; one that could not
    be asked raises :class:`~gharts_core.errors.Conflict` (see :func:`run_cycle_once`).
    """
    await sync.check_trigger(principal)
    if requests is not None and requests.request():
        await sync.record_trigger(principal, TriggerOutcome.SCHEDULED)
        return None
    try:
        report = await run_cycle_once(
            sync, database_url=database_url, metrics=metrics, ask_leader=True, run_here=run_here
        )
    except Conflict:
        await sync.record_trigger(principal, TriggerOutcome.REFUSED)
        raise
    if report is None:
        await sync.record_trigger(principal, TriggerOutcome.SCHEDULED)
        return None
    await sync.record_trigger(principal, TriggerOutcome.RAN, report)
    return report


async def _acquire(lead: Leadership, log: Any) -> bool:
    try:
        return await lead.acquire()
    except GhartsError as error:
        log.warning("sync_leadership_unavailable", error=error.detail)
        return False


async def _forward(lead: Leadership, log: Any) -> None:
    """Pass an in-process request for a cycle on to the worker leading elsewhere."""
    try:
        asked = await lead.request_cycle()
    except GhartsError as error:
        log.warning("sync_request_not_forwarded", error=error.detail)
        return
    log.info("sync_request_forwarded", asked=asked)


async def _timed(cycle: Awaitable[SyncReport], metrics: WorkerMetrics) -> SyncReport:
    """Await the cycle, recording its duration and outcome in the metrics."""
    started = time.monotonic()
    try:
        report = await cycle
    except Exception:
        metrics.failed(time.monotonic() - started)
        raise
    metrics.finished(report, time.monotonic() - started)
    return report


async def _cycle(
    sync: SyncService, lead: Leadership, metrics: WorkerMetrics, stop: asyncio.Event, grace: float
) -> None:
    """Run one cycle as the leader, fenced by its leadership; log what it did.

    Never raise but for cancellation.
    """
    name = lead.name
    started = time.monotonic()
    task = asyncio.create_task(_timed(sync.run_cycle(leader=name, fence=lead.holds), metrics))
    try:
        await _first(task, stop.wait())
        if not task.done():
            _log.info("sync_cycle_finishing", worker=name, grace_seconds=grace)
            await asyncio.wait({task}, timeout=grace)
    finally:
        if not task.done():
            task.cancel()
            _log.warning("sync_cycle_abandoned", worker=name)
        await asyncio.wait({task})
    if task.cancelled():
        return
    duration = round(time.monotonic() - started, 3)
    error = task.exception()
    if error is None:
        report = task.result()
        _log.info(
            "sync_worker_cycle",
            worker=name,
            duration_seconds=duration,
            actions=dict(report.actions),
            errors=len(report.errors),
            observed=report.observed,
        )
    elif isinstance(error, GhartsError):
        _log.warning("sync_cycle_failed", worker=name, duration_seconds=duration, error=str(error))
    else:
        _log.error("sync_cycle_crashed", worker=name, exc_info=error)


async def _wait(requests: SyncRequests, stop: asyncio.Event, period: float) -> bool:
    """Wait for the period, an early request or ``stop``; return whether a request came."""
    waiting = asyncio.create_task(requests.wait(period))
    await _first(waiting, stop.wait())
    if not waiting.done():
        waiting.cancel()
    await asyncio.wait({waiting})
    return not waiting.cancelled() and waiting.result()


async def _first(task: asyncio.Future[Any], other: Awaitable[object]) -> None:
    """Return when ``task`` is done or ``other`` completes (``other`` is then cancelled)."""
    watcher = asyncio.ensure_future(other)
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        await asyncio.wait({watcher})
