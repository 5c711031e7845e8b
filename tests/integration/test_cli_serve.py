"""``gharts serve`` as a real process: uvicorn, the worker beside it, graceful SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from asyncio.subprocess import Process
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from gharts_adapters.storage import create_store
from tests.integration.cli_harness import write_config
from tests.integration.worker_support import eventually
from tests.processes import free_port

START_SECONDS = 60.0
GHARTS = (sys.executable, "-m", "gharts_http.cli")


@asynccontextmanager
async def serving(config: Path, *options: str) -> AsyncIterator[tuple[Process, str]]:
    """Start ``gharts serve`` on a free port; yield the process and its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GHARTS_")}
    process = await asyncio.create_subprocess_exec(
        *GHARTS, "--config", str(config), "serve", "--host", "127.0.0.1", "--port", str(port),
        *options, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def stop(process: Process, sig: signal.Signals) -> tuple[int | None, bytes]:
    """Send ``sig``; return the exit status and what the process wrote to stderr."""
    process.send_signal(sig)
    async with asyncio.timeout(30):
        _, errors = await process.communicate()
    return process.returncode, errors


async def answers(url: str) -> bool:
    """Return whether ``GET /healthz`` answers 200."""
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            return (await client.get(f"{url}/healthz")).status_code == 200
    except httpx.TransportError:
        return False


async def sync_state(url: str) -> tuple[str | None, int]:
    """Return the recorded leader and the number of cycles."""
    store = create_store(url)
    try:
        async with store.unit_of_work() as uow:
            state = await uow.sync_state.get()
    finally:
        await store.close()
    return state.leader, state.cycles


async def test_serve_with_worker_runs_cycles_and_stops_on_sigterm(
    sqlite_url: str, tmp_path: Path
) -> None:
    """The API answers, the worker beside it leads; SIGTERM ends both with status 0."""
    config = write_config(tmp_path / "gharts.toml", sqlite_url)
    async with serving(config, "--with-worker") as (process, url):
        await eventually(lambda: answers(url), within=START_SECONDS, what="the server answering")
        await eventually(
            lambda: _has_cycled(sqlite_url), within=START_SECONDS, what="a worker cycle"
        )
        leader, _ = await sync_state(sqlite_url)
        code, errors = await stop(process, signal.SIGTERM)

    after = await sync_state(sqlite_url)
    assert (0, b"") == (code, errors)
    assert leader is not None
    assert leader.startswith("worker@")
    assert None is after[0]


async def _has_cycled(url: str) -> bool:
    return (await sync_state(url))[1] > 0


async def test_serve_does_not_migrate_the_database(tmp_path: Path) -> None:
    """On an empty database the server starts, answers /healthz, and creates no table."""
    database = tmp_path / "empty.db"
    config = write_config(tmp_path / "gharts.toml", f"sqlite+aiosqlite:///{database}")
    async with serving(config) as (process, url):
        await eventually(lambda: answers(url), within=START_SECONDS, what="the server answering")
        code, errors = await stop(process, signal.SIGINT)

    tables = sqlite3.connect(database).execute("SELECT name FROM sqlite_master").fetchall()
    assert (0, b"", []) == (code, errors, tables)


def test_forwarded_addresses_are_believed_from_the_configured_proxies_only() -> None:
    """By default no proxy is trusted (uvicorn alone would trust 127.0.0.1); set, only those."""
    from litestar import Litestar

    from gharts_http.cli.run import server_config
    from gharts_http.settings import ServerSettings, Settings

    app = Litestar()
    default = server_config(app, Settings(), host="127.0.0.1", port=8000)
    proxies = Settings(server=ServerSettings(forwarded_allow_ips=("10.0.0.0/8",)))
    behind = server_config(app, proxies, host="127.0.0.1", port=8000)

    assert (False, True, ["10.0.0.0/8"]) == (
        default.proxy_headers,
        behind.proxy_headers,
        behind.forwarded_allow_ips,
    )
