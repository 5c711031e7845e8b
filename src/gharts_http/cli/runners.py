"""``gharts runners list|show|delete``: the runner records, as an admin sees them in the API.

``delete`` removes the runner from GitHub first, then marks the record deleted (a runner GitHub
no longer has counts as removed), through the same service as ``DELETE /api/v1/runners/{id}``;
it needs the GitHub configuration.
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from gharts_core.model import RunnerStatus
from gharts_core.ports.storage import Page
from gharts_core.services.runners import RunnerQuery
from gharts_http.api.schemas.runners import RunnerListResponse, RunnerResponse
from gharts_http.bootstrap import Services
from gharts_http.cli.errors import EXIT_OK
from gharts_http.cli.output import emit, fields_table, rows_table
from gharts_http.cli.parsing import add_command
from gharts_http.cli.support import non_negative, operator, page_size

_COLUMNS = ("runner_id", "runner_name", "team_name", "status", "labels", "created_at")


def runner_id(value: str) -> uuid.UUID:
    """Argument type: a runner id (as ``runners list`` prints it)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a runner id: {value!r}") from None


async def _list(args: argparse.Namespace, services: Services) -> int:
    query = RunnerQuery(
        status=args.status,
        team_name=args.team,
        label=args.label,
        include_deleted=args.include_deleted,
    )
    page = Page(limit=args.limit, offset=args.offset)
    response = RunnerListResponse.of(await services.runners.list(operator(args), query, page))
    emit(args, response, lambda: rows_table(response.runners, _COLUMNS, total=response.total))
    return EXIT_OK


async def _get(args: argparse.Namespace, services: Services) -> int:
    response = RunnerResponse.of(await services.runners.get(operator(args), args.runner))
    emit(args, response, lambda: fields_table(response))
    return EXIT_OK


async def _delete(args: argparse.Namespace, services: Services) -> int:
    response = RunnerResponse.of(await services.runners.deprovision(operator(args), args.runner))
    emit(args, response, lambda: fields_table(response))
    return EXIT_OK


def add_runners_parser(commands: Any) -> None:
    """Register ``gharts runners`` and its subcommands."""
    runners = commands.add_parser("runners", help="list, show and delete runners").add_subparsers(
        dest="runners_command", required=True, metavar="SUBCOMMAND"
    )
    listing = add_command(
        runners, "list", help="list runners, newest first", action=_list,
        description="List the runner records of every team, newest first; deleted ones only "
        "with --include-deleted.",
        examples=["gharts runners list --team demo --status online"],
    )  # fmt: skip
    listing.add_argument("--team", help="only runners of this team")
    listing.add_argument(
        "--status", type=RunnerStatus, choices=list(RunnerStatus), help="only this status"
    )
    listing.add_argument("--label", help="only runners with this label")
    listing.add_argument("--include-deleted", action="store_true", help="also list deleted runners")
    listing.add_argument(
        "--limit", type=page_size, default=50, help="page size, 1-500 (default 50)"
    )
    listing.add_argument("--offset", type=non_negative, default=0, help="runners to skip")

    show = add_command(
        runners, "show", help="show one runner", action=_get,
        description="Show one runner record (its id as `gharts runners list` prints it).",
    )  # fmt: skip
    show.add_argument("runner", type=runner_id, metavar="RUNNER_ID", help="the runner's id")

    delete = add_command(
        runners, "delete", help="remove a runner from GitHub and mark it deleted",
        description="Remove the runner from GitHub, then mark its record deleted (audited). "
        "Needs the GitHub configuration.",
        writes=True, require_github=True, action=_delete,
    )  # fmt: skip
    delete.add_argument("runner", type=runner_id, metavar="RUNNER_ID", help="the runner's id")
