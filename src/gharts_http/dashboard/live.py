"""Runner changes, fanned out to every open dashboard page of this process.

One watch per process (:func:`gharts_adapters.storage.changes.runner_changes`: PostgreSQL
``LISTEN``; on SQLite the store's own announcement of every runner change this process commits,
plus a cheap check for other processes) starts when the first page listens and raises
:attr:`RunnerChanges.version`. Each page's server-sent-event stream waits on
:meth:`RunnerChanges.wait`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import structlog

from gharts_adapters.storage import SqlStore
from gharts_adapters.storage.changes import runner_changes
from gharts_http.bootstrap import Services

log = structlog.get_logger(__name__)

RETRY_SECONDS = 5.0

Watch = Callable[[], AsyncIterator[None]]


class RunnerChanges:
    """A counter of runner changes that pages can wait on."""

    def __init__(self, watch: Watch | None) -> None:
        self._watch = watch
        self._version = 0
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listeners = 0

    @classmethod
    def for_services(cls, services: Services) -> RunnerChanges:
        """Watch the database of ``services`` (nothing to watch on a store without SQL)."""
        store = services.store
        if not isinstance(store, SqlStore):
            return cls(None)
        return cls(lambda: runner_changes(store))

    @property
    def version(self) -> int:
        """How many changes were seen so far."""
        return self._version

    def changed(self) -> None:
        """Record a change: wake every waiting page."""
        self._version += 1
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def wait(self, seen: int, within: float) -> int:
        """Return the version once it differs from ``seen``, or after ``within`` seconds."""
        self._start()
        self._listeners += 1
        try:
            if self._version == seen:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), within)
            return self._version
        finally:
            self._listeners -= 1

    def _start(self) -> None:
        if self._watch is not None and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._follow(self._watch), name="dashboard-changes")

    async def _follow(self, watch: Watch) -> None:
        while True:
            try:
                async for _ in watch():
                    self.changed()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database may come back: retry, never crash pages
                log.warning("dashboard.change_watch_failed", error=repr(error))
            await asyncio.sleep(RETRY_SECONDS)

    async def close(self) -> None:
        """Stop watching (at shutdown)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
