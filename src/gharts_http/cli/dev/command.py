"""``gharts dev``: the whole service on one machine, from a fresh clone to a provisioned runner.

SQLite, the development token issuer's keys and the address the last run served on live in the
data directory (``.gharts-dev/``); re-running keeps them and ``--reset`` starts afresh. The GitHub
simulator, the dev issuer and the sync worker run in the server's process
(:mod:`gharts_http.cli.dev.server`); configuration files and ``GHARTS_*`` variables are ignored, so
dev mode behaves the same on every machine. ``gharts dev token`` signs tokens with the same key,
for the issuer URL the server uses; it imports only the issuer, so that it answers quickly inside
``$(...)``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gharts_adapters.identity import DevIssuer
from gharts_adapters.identity.dev_issuer import KEY_FILE
from gharts_http.cli.dev.data_dir import (
    DEFAULT_DATA_DIR,
    DEFAULT_HOST,
    DEFAULT_PORT,
    issuer_url,
    public_url_for,
    recorded_public_url,
)
from gharts_http.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, print_error


def token_public_url(args: argparse.Namespace) -> str:
    """Return the server URL a token is for: the flags, else the last ``gharts dev`` run's."""
    if args.public_url:
        return str(args.public_url)
    if args.port is not None or args.host is not None:
        return public_url_for(args.host or DEFAULT_HOST, args.port or DEFAULT_PORT)
    recorded = recorded_public_url(Path(args.data_dir))
    return recorded or public_url_for(DEFAULT_HOST, DEFAULT_PORT)


def run_token(args: argparse.Namespace) -> int:
    """``gharts dev token``: print a token of the dev issuer for a person or a machine client."""
    data_dir = Path(args.data_dir)
    if not (data_dir / KEY_FILE).is_file():
        hint = "" if args.data_dir == DEFAULT_DATA_DIR else f" with --data-dir {args.data_dir}"
        print_error(
            "DEV_NOT_STARTED",
            f"no development issuer keys in {data_dir}; start `gharts dev` first{hint}",
        )
        return EXIT_FAILED
    try:
        issuer = DevIssuer(issuer_url(token_public_url(args)), key_dir=data_dir)
    except ValueError as error:
        print_error("USAGE", f"--public-url: {error}")
        return EXIT_USAGE
    if args.email is not None:
        print(issuer.mint_user_token(args.email))
    else:
        print(issuer.mint_machine_token(args.client))
    return EXIT_OK


def run_dev(args: argparse.Namespace) -> int:
    """``gharts dev``: migrate, seed, then serve until SIGINT or SIGTERM (exit status 0)."""
    # Imported here: the server needs the whole application, ``gharts dev token`` does not.
    from gharts_http.cli.dev.server import serve_dev  # noqa: PLC0415

    return serve_dev(args)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port: {text!r}")
    return port


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        default=DEFAULT_DATA_DIR,
        help=f"where the database and the issuer keys live (default: {DEFAULT_DATA_DIR})",
    )


def add_dev_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``gharts dev`` and ``gharts dev token``; each sets ``func(args) -> exit code``."""
    dev = subparsers.add_parser(
        "dev",
        help="run everything locally: SQLite, simulated GitHub, a dev token issuer, seed data",
        description="Run gharts on this machine with no GitHub account and no identity "
        "provider. Ctrl+C stops it; the data stays for the next run.",
    )
    dev.add_argument("--host", default=DEFAULT_HOST, help=f"address (default: {DEFAULT_HOST})")
    dev.add_argument("--port", type=_port, default=DEFAULT_PORT, help="port (default: 8000)")
    dev.add_argument("--public-url", help="URL clients use (default: http://HOST:PORT)")
    dev.add_argument("--reset", action="store_true", help="delete the dev data first")
    _data_dir_option(dev)
    dev.set_defaults(func=run_dev)
    commands = dev.add_subparsers(dest="dev_command", title="subcommands", metavar="[token]")
    token = commands.add_parser(
        "token",
        help="print a token from the dev issuer",
        description="Print a token signed by the dev issuer of `gharts dev` (valid one hour).",
    )
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("--email", help="a person's token (e.g. admin@gharts.dev)")
    who.add_argument("--client", help="a machine client's token (e.g. demo-ci)")
    token.add_argument("--host", help="the host `gharts dev` runs on (default: the last run's)")
    token.add_argument("--port", type=_port, help="the port `gharts dev` runs on")
    token.add_argument("--public-url", help="the public URL `gharts dev` runs with")
    _data_dir_option(token)
    token.set_defaults(func=run_token)
