"""The ``gharts`` command line.

Available now: ``gharts db upgrade``. The service commands (``serve``, ``worker``, ``dev``,
``admin``, ``audit export``, ``sync --once``, ``policy check``) arrive with the HTTP API.
Exit codes: 0 success, 1 the operation failed, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gharts_adapters.storage import upgrade
from gharts_core.errors import GhartsError
from gharts_http.settings import ConfigError, load_settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gharts", description="GitHub Actions runner token service."
    )
    parser.add_argument(
        "--config", help="configuration file (default: $GHARTS_CONFIG or ./gharts.toml)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    db = commands.add_parser("db", help="database schema management")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="SUBCOMMAND")
    up = db_commands.add_parser("upgrade", help="apply migrations up to a revision (default: head)")
    up.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    up.add_argument("--url", help="database URL (default: database.url from the configuration)")
    return parser


def _db_upgrade(args: argparse.Namespace) -> int:
    url = args.url
    if url is None:
        url = load_settings(args.config, require_github=False).database.url
    upgrade(url, args.revision)
    print(f"database upgraded to {args.revision}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = _parser().parse_args(argv)
    try:
        return _db_upgrade(args)
    except ConfigError as error:
        for problem in error.problems:
            print(f"gharts: configuration: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except GhartsError as error:
        print(f"gharts: {error.code.value}: {error.detail}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as error:
        print(f"gharts: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
