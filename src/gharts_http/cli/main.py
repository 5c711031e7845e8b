"""The ``gharts`` command line.

Commands::

    gharts serve [--host H] [--port P] [--with-worker]   the HTTP API
    gharts worker [--interval S]                          the sync worker
    gharts db upgrade|current|history                     the schema (migrations)
    gharts admin create-admin|users|teams|clients ...     every admin task of the API
    gharts runners list|show|delete                       the runner records
    gharts sync --once|status|trigger                     one cycle here, the worker's state
    gharts stats, gharts security-events list             what the admin dashboard reads
    gharts audit export [--format jsonl|csv] [--output F] [filters]
    gharts policy check --team T --labels a,b             a team policy's decision
    gharts apply -f teams.toml [--plan] [--prune], gharts export    teams as a reviewed file
    gharts completion bash|zsh                            the shell completion script
    gharts dev [token]                                    everything locally (see ``dev``)

``--config FILE`` (before the command) names the configuration (default: ``$GHARTS_CONFIG`` or
``./gharts.toml``); ``--log-level`` sets the log level (logs go to stderr for one-shot commands,
to stdout for ``serve`` and ``worker``). Admin and read commands act as the operator (an admin
named by ``--actor``, or ``<os-user>@<host>``) through the core services, on the configured
database, with no HTTP and no token; they print a table on a terminal, JSON otherwise
(``--output table|json``). ``gharts --version`` prints the version.

Errors are one line on stderr, ``error: <CODE>: <detail>``; a bad configuration prints one
``error: INVALID_CONFIG: <problem>`` line per problem. Exit codes:

    0  success
    1  the operation failed: a service error (TEAM_NOT_FOUND, CONFLICT, ...), the database or
       GitHub unavailable, a sync cycle that recorded errors
    2  bad usage or bad configuration, or a plain install: without the ``server`` extra every
       command prints ``error: SERVER_NOT_INSTALLED: ...``
    3  ``policy check``: the labels are refused
    4  ``apply --plan --detailed-exitcode``: the plan has changes
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from gharts_core.errors import GhartsError
from gharts_http.cli.errors import (
    EXIT_CHANGES,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    UsageError,
    print_error,
)

__all__ = [
    "EXIT_CHANGES",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "SERVER_IMPORTS",
    "build_parser",
    "main",
]

#: The import names of the ``server`` extra's distributions (pyproject.toml). A command that
#: cannot import one of them runs on a plain install, the policy engine alone.
SERVER_IMPORTS = frozenset(
    {
        "aiosqlite",
        "alembic",
        "asyncpg",
        "authlib",
        "cattrs",
        "cryptography",
        "email_validator",
        "httpx",
        "jinja2",
        "joserfc",
        "litestar",
        "prometheus_client",
        "shtab",
        "sqlalchemy",
        "stamina",
        "tomli_w",
        "uvicorn",
    }
)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, ``error: USAGE: ...`` (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        """Raise :class:`UsageError` instead of printing the usage and exiting."""
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _add_dev_parser(commands: Any) -> None:
    from gharts_http.cli.dev.command import add_dev_parser  # noqa: PLC0415 - needs the server extra
    from gharts_http.cli.simulator import add_simulator_parser  # noqa: PLC0415

    add_dev_parser(commands)
    add_simulator_parser(commands)


def _add_server_parsers(parser: argparse.ArgumentParser, commands: Any) -> None:
    # Imported here: SQLAlchemy, Alembic and Litestar take seconds to import, and
    # ``gharts dev token`` (run inside ``$(...)`` in a curl line) needs none of them.
    from gharts_http.cli.admin import add_admin_parser  # noqa: PLC0415
    from gharts_http.cli.apply import add_file_parsers  # noqa: PLC0415
    from gharts_http.cli.audit import add_audit_parser, add_policy_parser  # noqa: PLC0415
    from gharts_http.cli.completion import add_completion_parser  # noqa: PLC0415
    from gharts_http.cli.db import add_db_parser  # noqa: PLC0415
    from gharts_http.cli.reads import add_read_parsers  # noqa: PLC0415
    from gharts_http.cli.run import add_run_parsers  # noqa: PLC0415
    from gharts_http.cli.runners import add_runners_parser  # noqa: PLC0415
    from gharts_http.cli.sync import add_sync_parser  # noqa: PLC0415

    add_run_parsers(commands)
    add_db_parser(commands)
    add_admin_parser(commands)
    add_runners_parser(commands)
    add_sync_parser(commands)
    add_read_parsers(commands)
    add_audit_parser(commands)
    add_policy_parser(commands)
    add_file_parsers(commands)
    add_completion_parser(commands, parser)


def _version() -> str:
    """Return the installed distribution's version (``unknown`` when run from a bare tree)."""
    try:
        return importlib.metadata.version("gharts")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _command_of(argv: Sequence[str]) -> str | None:
    """Return the command word of ``argv`` (skipping the global options and their values)."""
    words = iter(argv)
    for word in words:
        if word in {"--config", "--log-level"}:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def _needs_no_server(argv: Sequence[str]) -> bool:
    """Tell whether ``argv`` is ``gharts dev ...`` or ``gharts --version``: no server imports."""
    command = _command_of(argv)
    asks_version = "--version" in argv and not {"-h", "--help"} & set(argv)
    return command == "dev" or (command is None and asks_version)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """Return the parser of every command; each sets ``func(args) -> exit code``.

    For ``gharts dev ...`` (and ``gharts --version``) only the dev commands are built, so that
    ``gharts dev token`` starts in a fraction of the time the server commands need to import.
    """
    parser = _Parser(
        prog="gharts",
        description="GitHub Actions runner token service.",
        epilog="Exit codes: 0 ok, 1 failed, 2 bad usage or configuration, 3 policy refused, "
        "4 apply --plan --detailed-exitcode found changes.",
    )
    parser.add_argument("--version", action="version", version=f"gharts {_version()}")
    parser.add_argument(
        "--config", help="configuration file (default: $GHARTS_CONFIG or ./gharts.toml)"
    )
    parser.add_argument(
        "--log-level",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        type=str.upper,
        help="log level (default: INFO for serve and worker, ERROR otherwise)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    if argv is None or not _needs_no_server(argv):
        _add_server_parsers(parser, commands)
    _add_dev_parser(commands)
    return parser


def _detail_of(error: GhartsError) -> str:
    """Return the detail, with each offending field's sentence when the error names fields."""
    fields = error.extras().get("field_errors")
    if not isinstance(fields, dict) or not fields:
        return error.detail
    return f"{error.detail} " + " ".join(f"{name}: {text}" for name, text in fields.items())


def _failed(error: Exception) -> int:
    """Print the one-line error(s) for ``error`` and return the exit code."""
    if isinstance(error, UsageError):
        print_error("USAGE", str(error))
        return EXIT_USAGE
    from gharts_http.settings import ConfigError  # noqa: PLC0415 - see _add_server_parsers

    if isinstance(error, ConfigError):
        for problem in error.problems:
            print_error("INVALID_CONFIG", problem)
        return EXIT_USAGE
    if isinstance(error, GhartsError):
        print_error(error.code.value, _detail_of(error))
    else:
        print_error("INTERNAL_ERROR", f"{type(error).__name__}: {error}")
    return EXIT_FAILED


def _without_server(error: ModuleNotFoundError) -> bool:
    """Tell whether ``error`` is a distribution of the ``server`` extra that is not installed."""
    return (error.name or "").partition(".")[0] in SERVER_IMPORTS


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    try:
        words = sys.argv[1:] if argv is None else list(argv)
        args = build_parser(words).parse_args(words)
        code: int = args.func(args)
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else EXIT_OK
    except KeyboardInterrupt:
        return EXIT_FAILED
    except ModuleNotFoundError as error:
        if not _without_server(error):
            return _failed(error)
        print_error(
            "SERVER_NOT_INSTALLED",
            "the gharts command needs the server extra: pip install 'gharts[server]'",
        )
        return EXIT_USAGE
    except Exception as error:
        return _failed(error)
    return code
