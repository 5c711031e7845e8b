"""``/events/runners``: server-sent events telling open pages that runners changed.

Each stream lasts at most :data:`STREAM_SECONDS`; the browser's ``EventSource`` reconnects after
:data:`RECONNECT_MILLISECONDS` and sends the last version it saw (``Last-Event-ID``), so a change
made in between is announced at once. Stopping the server therefore never waits on pages left
open. Only logged-in people may listen; an event carries no data, the page re-reads what its
viewer may see.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from litestar import Controller, Request, get
from litestar.response import ServerSentEvent, ServerSentEventMessage

from gharts_http.dashboard.context import DashboardDep, ViewerDep
from gharts_http.dashboard.pages import SECURITY_HEADERS

STREAM_SECONDS = 10.0
RECONNECT_MILLISECONDS = 500


def _last_seen(request: Request[Any, Any, Any], current: int) -> int:
    value = request.headers.get("last-event-id", "")
    return int(value) if value.isdigit() else current


class EventStream(Controller):
    """The live-update stream of the runners pages."""

    include_in_schema = False

    @get("/events/runners")
    async def runner_events(
        self,
        request: Request[Any, Any, Any],
        dashboard: DashboardDep,
        viewer: ViewerDep,  # noqa: ARG002 - asked for its check: only people logged in listen
    ) -> ServerSentEvent:
        """Stream one ``runners`` event per change seen, for a while."""
        changes = dashboard.changes
        seen = _last_seen(request, changes.version)

        async def events() -> AsyncIterator[ServerSentEventMessage]:
            nonlocal seen
            loop = asyncio.get_running_loop()
            deadline = loop.time() + STREAM_SECONDS
            # No data: this only tells the browser our version and how soon to reconnect.
            yield ServerSentEventMessage(id=changes.version, retry=RECONNECT_MILLISECONDS)
            while (left := deadline - loop.time()) > 0:
                version = await changes.wait(seen, left)
                if version != seen:
                    seen = version
                    yield ServerSentEventMessage(event="runners", data=str(version), id=version)

        return ServerSentEvent(events(), headers=dict(SECURITY_HEADERS))
