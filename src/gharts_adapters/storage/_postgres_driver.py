"""PostgreSQL's pooled connections: one the server closed is replaced at checkout, at no cost.

SQLAlchemy's ``pool_pre_ping`` asks the server before every checkout; on asyncpg that is three
round trips (``BEGIN``, an empty query, ``ROLLBACK``), six of a JIT request's sixteen. What the
ping finds is a connection the server closed (a restart, ``pg_terminate_backend``, an idle
session timeout), and asyncpg already knows of those: the server says goodbye and closes the
socket, and the event loop reads that before the pool hands the connection out again.
:class:`ClosedCheckingPool` checks ``is_closed()`` at checkout instead; a closed connection
raises ``DisconnectionError``, on which the pool replaces it and checks out again.

What neither finds in time is a connection that dies between the checkout and its first
statement: that statement fails, SQLAlchemy invalidates the connection and replaces every one the
pool opened before it at its next checkout, and the unit of work reports the database
unavailable (503), as it did with the ping. Nor does either notice a peer that vanished without
closing (a cut cable): the ping would wait as long as the statement does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.pool import AsyncAdaptedQueuePool


def _replace_closed(dbapi_connection: Any, _record: object, _proxy: object) -> None:
    if dbapi_connection.driver_connection.is_closed():
        raise exc.DisconnectionError("PostgreSQL closed this pooled connection.")


class ClosedCheckingPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's pool for asyncio engines, which refuses to hand out a closed connection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # recreate() (after dispose() or an invalidation) hands its listeners on to the new pool.
        if not event.contains(self, "checkout", _replace_closed):
            event.listen(self, "checkout", _replace_closed)
