"""A failed SQLite open is handled within its event loop: no aiosqlite thread outlives it.

Issue 12, finding 18: aiosqlite stops its worker thread without waiting when opening the
database fails; a thread still running when the loop closed then called into the closed loop
(``RuntimeError: Event loop is closed``, seen by pytest as PytestUnhandledThreadExceptionWarning
in whichever test ran next).
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from gharts_adapters.storage import create_store
from gharts_core.errors import StorageUnavailable

RUNS = 25


def _aiosqlite_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if "_connection_worker_thread" in t.name]


async def _fail_to_open(url: str) -> list[threading.Thread]:
    store = create_store(url)
    try:
        with pytest.raises(StorageUnavailable):
            async with store.unit_of_work():
                pass
        return _aiosqlite_threads()
    finally:
        await store.close()


def test_a_failed_open_leaves_no_aiosqlite_thread_behind_its_loop(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing-directory' / 'gharts.db'}"
    errors: list[BaseException | None] = []
    previous = threading.excepthook
    threading.excepthook = lambda args: errors.append(args.exc_value)
    try:
        alive = [asyncio.run(_fail_to_open(url)) for _ in range(RUNS)]
    finally:
        threading.excepthook = previous

    assert ([], [[]] * RUNS) == (errors, alive)
