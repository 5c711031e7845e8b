"""``gharts simulator``: the GitHub simulator as a process of its own, shared over HTTP.

Several replicas, a worker and ``gharts sync --once`` share one simulated GitHub by pointing
``github.api_url`` at it, in ``github.mode = "app"`` with the App credentials it prints::

    gharts simulator --port 9000 --state sim/github.json
    # {"api_url": "http://127.0.0.1:9000", "app_id": 1001, "installation_id": 2002,
    #  "private_key_path": "sim/github.pem", ...}

The App's private key is read from ``--private-key-path`` (default: beside the state file, or
in the working directory), and made there (mode 0600) when the file does not exist yet, so the
clients' ``github.private_key_path`` names the same file across restarts. With ``--state`` the
runners are kept in that JSON file: a restarted simulator has the GitHub it had. The control
API is served under ``/_simulator``. SIGINT or SIGTERM stop it with status 0.

Only this module's parser is imported by ``gharts --help``; the simulator and uvicorn are
imported when the command runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
from typing import Any

from gharts_http.cli.errors import EXIT_OK, UsageError

DEFAULT_PORT = 9000
DEFAULT_APP_ID = 1001
DEFAULT_INSTALLATION_ID = 2002
DEFAULT_KEY_FILE = "github-simulator.pem"


def key_path(args: argparse.Namespace) -> Path:
    """Return where the App's private key lives: the flag, else beside the state file."""
    if args.private_key_path:
        return Path(args.private_key_path)
    if args.state:
        return Path(args.state).with_suffix(".pem")
    return Path(DEFAULT_KEY_FILE)


def app_keys(path: Path) -> tuple[str, str]:
    """Return ``(private PEM, public PEM)`` of the key in ``path``, making it when missing."""
    from joserfc.jwk import RSAKey  # noqa: PLC0415 - the server extra

    if path.exists():
        try:
            key = RSAKey.import_key(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise UsageError(f"--private-key-path: {path} holds no RSA private key") from error
    else:
        key = RSAKey.generate_key(2048, private=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(key.as_pem(private=True).decode())
    return key.as_pem(private=True).decode(), key.as_pem(private=False).decode()


def run_simulator(args: argparse.Namespace) -> int:
    """``gharts simulator``: serve the simulator until SIGINT or SIGTERM."""
    import uvicorn  # noqa: PLC0415 - the server extra

    from gharts_adapters.github.simulator import (  # noqa: PLC0415
        GitHubSimulator,
        create_simulator_app,
    )
    from gharts_adapters.github.simulator.persistence import keep_in_file  # noqa: PLC0415
    from gharts_http.cli.run import signals_end_quietly  # noqa: PLC0415

    if not 0 < args.port < 65536:
        raise UsageError("--port must be between 1 and 65535")
    private_key = key_path(args)
    _, public_pem = app_keys(private_key)
    simulator = GitHubSimulator(
        app_id=args.app_id,
        installation_id=args.installation_id,
        app_public_key_pem=public_pem,
        default_scope=args.scope,
    )
    if args.state:
        try:
            keep_in_file(simulator, Path(args.state))
        except (OSError, ValueError) as error:
            raise UsageError(f"--state: {error}") from error
    announcement: dict[str, Any] = {
        "api_url": f"http://{args.host}:{args.port}",
        "app_id": args.app_id,
        "installation_id": args.installation_id,
        "private_key_path": str(private_key.resolve()),
        "scope": args.scope,
        "state": str(Path(args.state).resolve()) if args.state else None,
    }
    print(json.dumps(announcement), flush=True)
    config = uvicorn.Config(
        create_simulator_app(simulator),
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
    )
    with signals_end_quietly():
        asyncio.run(uvicorn.Server(config).serve())
    return EXIT_OK


def add_simulator_parser(commands: Any) -> None:
    """Register ``gharts simulator``."""
    parser = commands.add_parser(
        "simulator",
        help="serve the GitHub simulator as a process of its own",
        description="Serve GitHub's runner endpoints and the /_simulator control API, for "
        'replicas, workers and `gharts sync --once` configured with github.mode = "app" and '
        "github.api_url pointing here. Prints one JSON line with the App credentials to use.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})"
    )
    parser.add_argument("--state", help="JSON file keeping the runners across restarts")
    parser.add_argument(
        "--private-key-path",
        help="the GitHub App's private key (PEM), made when missing (default: beside --state)",
    )
    parser.add_argument("--scope", default="org:gharts-sim", help="the default scope")
    parser.add_argument("--app-id", type=int, default=DEFAULT_APP_ID)
    parser.add_argument("--installation-id", type=int, default=DEFAULT_INSTALLATION_ID)
    parser.set_defaults(func=run_simulator)
