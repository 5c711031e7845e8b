"""How the API asks a worker in the same process for an early sync cycle.

The trigger endpoint and the webhook endpoint call :meth:`SyncRequests.request`; a worker running
in this process (``gharts dev``, or ``serve`` with the worker beside it) waits on
:meth:`SyncRequests.wait` between cycles. With no worker listening, ``request`` says so and the
caller decides what to do instead.
"""

from __future__ import annotations

import asyncio
import contextlib


class SyncRequests:
    """A wake-up flag between request handlers and an in-process worker."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.listening = False

    def request(self) -> bool:
        """Ask for a cycle soon; return whether a worker in this process will see it."""
        self._event.set()
        return self.listening

    async def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for a request; return whether one came (and clear it)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._event.wait()
        requested = self._event.is_set()
        self._event.clear()
        return requested
