"""Runner changes committed by this process, announced at once to whoever listens in it.

A statement that inserts, updates or deletes rows of ``runners`` or ``runner_transitions`` marks
its connection (:func:`note_runner_statement`, an engine hook that :func:`configure_engine
<gharts_adapters.storage.store.configure_engine>` installs). After a successful commit the unit
of work publishes on its store's :class:`RunnerWrites` when the mark is set; a rollback publishes
nothing. So every writer in the process (provisioning, refresh and delete, the webhook, the sync
worker) is heard without naming it, and no writer can forget to announce a change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import UpdateBase

from gharts_adapters.storage.tables import runner_transitions, runners

log = structlog.get_logger(__name__)

#: The key of ``Connection.info`` that says a runner table was written in this transaction.
RUNNERS_WRITTEN = "gharts_runners_written"
_RUNNER_TABLES = (runners, runner_transitions)

Listener = Callable[[], None]


def note_runner_statement(
    connection: Connection,
    statement: object,
    _multiparams: object,
    _params: object,
    _execution_options: object,
    _result: object,
) -> None:
    """Mark ``connection`` when ``statement`` wrote a runner table (an ``after_execute`` hook)."""
    if isinstance(statement, UpdateBase) and any(
        statement.table is table for table in _RUNNER_TABLES
    ):
        connection.info[RUNNERS_WRITTEN] = True


def take_mark(info: dict[Any, Any]) -> bool:
    """Return whether the connection with this ``info`` wrote a runner table, and clear it."""
    return bool(info.pop(RUNNERS_WRITTEN, False))


class RunnerWrites:
    """The in-process feed of committed runner changes: listeners are called after each commit."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    @property
    def listeners(self) -> int:
        """How many listen now."""
        return len(self._listeners)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` after every commit that changed runners; return the unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def publish(self) -> None:
        """Tell every listener that runners changed; a failing listener never fails the writer."""
        for listener in tuple(self._listeners):
            try:
                listener()
            except Exception as error:  # the commit happened; a page listening is not its concern
                log.warning("storage.runner_change_listener_failed", error=repr(error))
