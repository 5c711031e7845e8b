"""The server half of ``gharts dev``: listen, migrate, seed, then serve with the worker beside it.

The socket is bound first, so a busy port is one line on stderr before any work is done. The
simulated GitHub is kept in the data directory (``github.json``) with the database. The app
and the sync worker share one event loop; SIGINT or SIGTERM stops uvicorn, then the worker, then
closes the services, and the process exits with status 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from pathlib import Path

import httpx

from gharts_adapters.github.simulator.persistence import keep_in_file
from gharts_adapters.identity import DevIssuer
from gharts_adapters.storage import upgrade
from gharts_http.bootstrap import Services, bootstrap
from gharts_http.cli.dev.app import create_dev_app, dev_settings
from gharts_http.cli.dev.app import dev_verifier as verifier_for
from gharts_http.cli.dev.banner import banner
from gharts_http.cli.dev.data_dir import GITHUB_FILE, issuer_url, public_url_for, record_public_url
from gharts_http.cli.dev.data_dir import reset as reset_data
from gharts_http.cli.dev.seed import DEV_ADMIN_EMAIL, seed_dev_data
from gharts_http.cli.errors import EXIT_FAILED, EXIT_OK, UsageError, print_error
from gharts_http.cli.run import serve
from gharts_http.logging import configure_logging, reset_logging
from gharts_http.settings import Settings


class DevError(Exception):
    """``gharts dev`` cannot start; ``code`` and the message make its one line on stderr."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


def _listen(host: str, port: int) -> socket.socket:
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family)
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise DevError("LISTEN_FAILED", f"cannot listen on {host}:{port}: {reason}") from error


async def _serve(settings: Settings, issuer: DevIssuer, sock: socket.socket, data_dir: str) -> None:
    async with httpx.AsyncClient(transport=issuer.transport()) as identity_client:
        services = bootstrap(settings, identity=verifier_for(issuer, identity_client))
        try:
            keep_github(services, Path(data_dir))
            report = await seed_dev_data(services, issuer.issuer)
            print(banner(settings.server.public_url, data_dir, report), flush=True)
            await serve(
                services,
                create_dev_app(services, issuer),
                host=settings.server.host,
                port=settings.server.port,
                sockets=[sock],
                with_worker=True,
            )
        finally:
            await services.aclose()


def keep_github(services: Services, data_dir: Path) -> None:
    """Keep the simulated GitHub in the data directory, beside the database that knows it.

    A restarted ``gharts dev`` then finds the runners its database remembers, and never hands
    out a runner id twice. A file that cannot be read stops start-up with one line.
    """
    if services.simulator is None:
        raise ValueError('dev mode needs github.mode = "simulator"')
    try:
        keep_in_file(services.simulator, data_dir / GITHUB_FILE)
    except (OSError, ValueError) as error:
        raise DevError(
            "DEV_STATE_UNREADABLE", f"{error}; `gharts dev --reset` starts afresh"
        ) from error


def _prepare(args: argparse.Namespace, sock: socket.socket) -> tuple[Settings, DevIssuer]:
    data_dir = Path(args.data_dir)
    host, port = sock.getsockname()[:2]
    public_url = args.public_url or public_url_for(args.host, port)
    try:
        issuer = DevIssuer(issuer_url(public_url), key_dir=data_dir)
    except ValueError as error:
        raise UsageError(f"--public-url: {error}") from error
    settings = dev_settings(
        data_dir, host=host, port=port, public_url=public_url, admin_email=DEV_ADMIN_EMAIL
    )
    record_public_url(data_dir, public_url)
    upgrade(settings.database.url)
    return settings, issuer


def serve_dev(args: argparse.Namespace) -> int:
    """Run ``gharts dev`` with parsed ``args``; return the exit status."""
    data_dir = Path(args.data_dir)
    # Logs are text on stderr, so that stdout holds only the banner.
    level = getattr(args, "log_level", None) or "INFO"
    configure_logging(json=False, level=level, stream=sys.stderr, cache_loggers=False)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        if args.reset:
            reset_data(data_dir)
        with _listen(args.host, args.port) as sock:
            settings, issuer = _prepare(args, sock)
            asyncio.run(_serve(settings, issuer, sock, args.data_dir))
    except DevError as error:
        print_error(error.code, str(error))
        return EXIT_FAILED
    finally:
        reset_logging()
    return EXIT_OK
