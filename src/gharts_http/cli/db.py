"""``gharts db upgrade|current|history``: the database schema.

``upgrade`` applies the packaged Alembic migrations; ``current`` tells which revision the
database is at and whether that is the newest; ``history`` lists the packaged migrations.
Without ``--url`` the database is the configured one (or the ``gharts dev`` database, see
:mod:`gharts_http.cli.locate`).
"""

from __future__ import annotations

import argparse
from typing import Any

import attrs

from gharts_adapters.storage import current, history, upgrade
from gharts_http.cli.errors import EXIT_FAILED, EXIT_OK
from gharts_http.cli.locate import masked_url, sqlite_file
from gharts_http.cli.output import Table, emit
from gharts_http.cli.parsing import add_command
from gharts_http.cli.support import load_command_settings


@attrs.frozen
class CurrentRevision:
    """``db current``: the database, the revisions it is at, the newest packaged one."""

    database: str
    revisions: tuple[str, ...]
    head: str
    up_to_date: bool


def _url(args: argparse.Namespace) -> str:
    if args.url is not None:
        return str(args.url)
    return load_command_settings(args, require_github=False).settings.database.url


def _upgrade(args: argparse.Namespace) -> int:
    upgrade(_url(args), args.revision)
    print(f"database upgraded to {args.revision}")
    return EXIT_OK


def _current(args: argparse.Namespace) -> int:
    url = _url(args)
    file = sqlite_file(url)
    revisions = () if file is not None and not file.is_file() else current(url)
    head = next(revision.id for revision in history() if revision.is_head)
    state = CurrentRevision(masked_url(url), revisions, head, revisions == (head,))

    def text() -> str:
        at = ",".join(revisions) or "none (not migrated)"
        verdict = "up to date" if state.up_to_date else f"behind: run `gharts db upgrade` ({head})"
        return f"{state.database}: {at}, {verdict}"

    emit(args, state, text)
    return EXIT_OK if state.up_to_date else EXIT_FAILED


def _history(args: argparse.Namespace) -> int:
    revisions = history()
    rows = tuple(
        (r.id, r.down_revision or "-", "head" if r.is_head else "", r.message) for r in revisions
    )
    emit(args, list(revisions), lambda: Table(("REVISION", "AFTER", "", "MESSAGE"), rows))
    return EXIT_OK


def _url_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="database URL (default: database.url from the configuration)")


def add_db_parser(commands: Any) -> None:
    """Register ``gharts db`` and its subcommands."""
    db = commands.add_parser("db", help="database schema management")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="SUBCOMMAND")
    up = add_command(
        db_commands, "upgrade", help="apply migrations up to a revision (default: head)",
        description="Apply the Alembic migrations to the configured database.",
        examples=["gharts db upgrade"], output=False,
    )  # fmt: skip
    up.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    _url_option(up)
    up.set_defaults(func=_upgrade)
    now = add_command(
        db_commands, "current", help="the revision the database is at",
        description="Print the database's revision and whether it is the newest; exit status 1 "
        "when the database needs `gharts db upgrade`.",
        examples=["gharts db current"],
    )  # fmt: skip
    _url_option(now)
    now.set_defaults(func=_current)
    past = add_command(
        db_commands, "history", help="the packaged migrations, newest first",
        description="List the migrations this version of gharts ships, newest first.",
        examples=["gharts db history --output table"],
    )  # fmt: skip
    past.set_defaults(func=_history)
