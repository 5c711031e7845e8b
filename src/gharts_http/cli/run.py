"""``gharts serve``, ``gharts worker`` and ``gharts sync --once``: running the service.

``worker`` and ``sync --once`` refuse ``github.mode = "simulator"`` (exit 2): their simulated
GitHub would be their own, empty (see :func:`refuse_a_private_simulator`). ``serve`` and
``worker`` log JSON lines to stdout and stop gracefully on SIGINT or SIGTERM (exit
status 0): the server finishes its requests, the worker its cycle, leadership is released and
the services are closed. Neither applies migrations: run ``gharts db upgrade`` first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn
from litestar import Litestar

from gharts_adapters.github.simulator import mount_simulator
from gharts_adapters.storage.leadership import leadership_for
from gharts_http.api.app import create_app
from gharts_http.api.schemas.sync import SyncRunResponse
from gharts_http.bootstrap import Services, bootstrap
from gharts_http.cli import event_loop
from gharts_http.cli.errors import EXIT_FAILED, EXIT_OK, UsageError
from gharts_http.cli.support import (
    load,
    print_json,
    with_services,
)
from gharts_http.dashboard import dashboard_handlers, not_found_page
from gharts_http.logging import configure_logging
from gharts_http.metrics.worker import WorkerMetrics
from gharts_http.settings import GitHubMode, Settings
from gharts_http.worker import run_cycle_once, run_worker

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Where ``gharts serve`` and ``gharts dev`` mount the in-process GitHub simulator.
SIMULATOR_PATH = "/_github"


def _log_setup(args: argparse.Namespace) -> None:
    configure_logging(json=args.log_format == "json", level=args.log_level or "INFO")


# ------------------------------------------------------------------ serve


@contextlib.contextmanager
def signals_end_quietly() -> Iterator[None]:
    """Let SIGINT/SIGTERM end the process with status 0 once uvicorn has shut down.

    uvicorn handles both signals while it serves and raises them again afterwards; the handlers
    installed here are what that second delivery reaches.
    """
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def server_config(app: Litestar, settings: Settings, *, host: str, port: int) -> uvicorn.Config:
    """Return uvicorn's configuration for ``app``.

    ``X-Forwarded-For`` is believed from ``server.forwarded_allow_ips`` only: uvicorn's own
    default would believe 127.0.0.1, letting a local sidecar or a misrouted request claim any
    address. The app logs every request itself, so uvicorn's access log is off, and its other
    lines go through the logging the command configured.
    """
    proxies = list(settings.server.forwarded_allow_ips)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
    )


async def serve(
    services: Services,
    app: Litestar,
    *,
    host: str,
    port: int,
    sockets: list[socket.socket] | None = None,
    with_worker: bool = False,
    worker_interval: float | None = None,
) -> None:
    """Serve ``app`` with uvicorn until SIGINT or SIGTERM, the sync worker beside it if asked.

    ``sockets`` are already-bound listening sockets (``host`` and ``port`` then only name them).
    The worker shares this event loop and stops after the server; ``services`` stay the
    caller's to close.
    """
    server = uvicorn.Server(server_config(app, services.settings, host=host, port=port))
    stop = asyncio.Event()
    worker: asyncio.Task[None] | None = None
    if with_worker:
        worker = asyncio.create_task(run_sync_worker(services, stop=stop, interval=worker_interval))
        # A worker that dies takes the server down with it rather than failing silently.
        worker.add_done_callback(lambda _: setattr(server, "should_exit", True))
    try:
        with signals_end_quietly():
            await server.serve(sockets=sockets)
    finally:
        stop.set()
        if worker is not None:
            await worker


async def run_sync_worker(
    services: Services, *, stop: asyncio.Event, interval: float | None = None
) -> None:
    """Run the sync worker on ``services`` until ``stop`` (every ``sync.interval_seconds``)."""
    settings = services.settings
    await run_worker(
        services.sync,
        leadership=leadership_for(settings.database.url),
        requests=services.sync_requests,
        metrics=WorkerMetrics.of(services.metrics.registry),
        interval=float(settings.sync.interval_seconds if interval is None else interval),
        stop=stop,
    )


def app_for(services: Services) -> Litestar:
    """Return the app ``gharts serve`` serves: the simulator mounted in simulator mode.

    With ``github.mode = "simulator"`` the in-process GitHub is served under
    :data:`SIMULATOR_PATH`, its control API at ``/_github/_simulator`` (product spec, section 4).
    """
    dashboard = dashboard_handlers(services)  # none unless [dashboard] enabled = true
    page = not_found_page if dashboard else None
    if services.simulator is None:
        return create_app(services, extra_handlers=dashboard, not_found_page=page)
    return create_app(
        services,
        extra_handlers=[mount_simulator(services.simulator, SIMULATOR_PATH), *dashboard],
        not_found_page=page,
    )


async def _serve(settings: Settings, host: str, port: int, with_worker: bool) -> None:
    services = bootstrap(settings)
    try:
        await serve(services, app_for(services), host=host, port=port, with_worker=with_worker)
    finally:
        await services.aclose()


def run_serve(args: argparse.Namespace) -> int:
    """``gharts serve``: the HTTP API (and, with ``--with-worker``, the sync worker)."""
    settings = load(args, require_github=True)
    _log_setup(args)
    host = args.host or settings.server.host
    port = settings.server.port if args.port is None else args.port
    event_loop.run(_serve(settings, host, port, args.with_worker))
    return EXIT_OK


# ------------------------------------------------------------------ worker


def refuse_a_private_simulator(settings: Settings, command: str) -> None:
    """Raise :class:`UsageError` when ``command`` would reconcile against a GitHub of its own.

    In simulator mode every process builds its own in-memory GitHub, empty: a worker or a
    one-off cycle there sees none of the server's runners and would retire them all. A shared
    simulator is configured as a GitHub App (``mode = "app"``, ``api_url`` at ``gharts
    simulator``), which this does not refuse.
    """
    if settings.github.mode is GitHubMode.SIMULATOR:
        raise UsageError(
            f'gharts {command} refuses github.mode = "simulator": it would get a simulated '
            "GitHub of its own, empty, that disagrees with the server's. Run `gharts simulator "
            "--port N --state FILE` and configure every process as the GitHub App it prints "
            '(mode = "app", [github] api_url = its URL), or run the worker inside '
            "`gharts serve --with-worker` or `gharts dev`"
        )


async def _work(services: Services, interval: float | None) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in _SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    try:
        await run_sync_worker(services, stop=stop, interval=interval)
    finally:
        for sig in _SIGNALS:
            loop.remove_signal_handler(sig)


async def _worker(settings: Settings, interval: float | None) -> None:
    services = bootstrap(settings)
    try:
        await _work(services, interval)
    finally:
        await services.aclose()


def run_worker_command(args: argparse.Namespace) -> int:
    """``gharts worker``: sync cycles until SIGINT or SIGTERM."""
    settings = load(args, require_github=True)
    refuse_a_private_simulator(settings, "worker")
    _log_setup(args)
    if args.interval is not None and args.interval <= 0:
        raise UsageError("--interval must be positive")
    asyncio.run(_worker(settings, args.interval))
    return EXIT_OK


# ------------------------------------------------------------------ sync --once


async def _sync_once(services: Services) -> int:
    refuse_a_private_simulator(services.settings, "sync --once")
    report = await run_cycle_once(
        services.sync,
        database_url=services.settings.database.url,
        metrics=WorkerMetrics.of(services.metrics.registry),
        ask_leader=False,
    )
    assert report is not None  # noqa: S101 - without ask_leader there is a report or an error
    print_json(SyncRunResponse.of(report))
    return EXIT_FAILED if report.errors else EXIT_OK


def run_sync(args: argparse.Namespace) -> int:
    """``gharts sync --once``: one reconciliation cycle, its report as JSON."""
    if not args.once:
        raise UsageError("gharts sync needs --once (the reconciliation loop is `gharts worker`)")
    return with_services(args, _sync_once, require_github=True)


# ------------------------------------------------------------------ parsers


def _logging_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format",
        choices=("json", "console"),
        default="json",
        help="log lines as JSON objects (default) or as text for a terminal",
    )


def add_run_parsers(commands: Any) -> None:
    """Register ``serve`` and ``worker`` (``sync`` is :mod:`gharts_http.cli.sync`)."""
    serve = commands.add_parser(
        "serve",
        help="run the HTTP API",
        description="Serve the HTTP API with uvicorn. Migrations are not applied: run "
        "`gharts db upgrade` first. SIGINT/SIGTERM stop it gracefully.",
    )
    serve.add_argument("--host", help="address to listen on (default: server.host)")
    serve.add_argument("--port", type=int, help="port to listen on (default: server.port)")
    serve.add_argument(
        "--with-worker",
        action="store_true",
        help="also run the sync worker in this process",
    )
    _logging_options(serve)
    serve.set_defaults(func=run_serve)

    worker = commands.add_parser(
        "worker",
        help="run the sync worker",
        description="Reconcile runner records with GitHub: at once, then every "
        "sync.interval_seconds, until SIGINT/SIGTERM. On PostgreSQL one worker leads at a time "
        "(an advisory lock); the others stand by and take over when it goes.",
    )
    worker.add_argument(
        "--interval",
        type=float,
        help="seconds between cycles (default: sync.interval_seconds)",
    )
    _logging_options(worker)
    worker.set_defaults(func=run_worker_command)
