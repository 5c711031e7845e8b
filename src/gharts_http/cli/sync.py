"""``gharts sync --once|status|trigger``: the sync worker from the shell.

``--once`` runs one cycle here and prints its report (``gharts_http.cli.run``). ``status`` reads
the shared sync state as ``GET /api/v1/admin/sync/status`` does. ``trigger`` asks for a cycle as
``POST /api/v1/admin/sync/trigger`` does: on PostgreSQL the leading worker is woken through
``NOTIFY`` (``scheduled``); with no leader the cycle runs here (``completed``, with its report),
unless this process's GitHub would be a simulator of its own (``github.mode = "simulator"``):
then with no leader to ask it refuses (exit 2). Both are audited with the operator as actor.
"""

from __future__ import annotations

import argparse
from typing import Any

from gharts_core.errors import Conflict
from gharts_http.api.schemas.sync import (
    SyncCompletedResponse,
    SyncScheduledResponse,
    SyncStatusResponse,
)
from gharts_http.bootstrap import Services
from gharts_http.cli.errors import EXIT_FAILED, EXIT_OK, UsageError
from gharts_http.cli.output import emit, fields_table
from gharts_http.cli.parsing import add_command
from gharts_http.cli.run import run_sync
from gharts_http.cli.support import operator
from gharts_http.metrics.worker import WorkerMetrics
from gharts_http.worker import trigger_cycle


async def _status(args: argparse.Namespace, services: Services) -> int:
    state = await services.sync.admin_status(operator(args))
    response = SyncStatusResponse.of(
        state,
        now=services.clock.now(),
        interval_seconds=services.settings.sync.interval_seconds,
        worker_in_process=False,
    )
    emit(args, response, lambda: fields_table(response))
    return EXIT_OK


async def _trigger(args: argparse.Namespace, services: Services) -> int:
    # A simulated GitHub built here is this process's own, empty: a cycle against it would retire
    # every runner the server knows. Only a leader elsewhere may run it.
    private_github = services.simulator is not None
    try:
        report = await trigger_cycle(
            services.sync,
            operator(args),
            requests=None,
            database_url=services.settings.database.url,
            metrics=WorkerMetrics.of(services.metrics.registry),
            run_here=not private_github,
        )
    except Conflict:
        if private_github:
            raise UsageError(
                "gharts sync trigger found no worker leading to ask, and with github.mode = "
                '"simulator" it may not run the cycle itself: its simulated GitHub would be its '
                "own, empty. Ask the server whose worker it is: the dashboard's \"Run a sync "
                'cycle now" (/admin/) or POST /api/v1/admin/sync/trigger'
            ) from None
        raise
    if report is None:
        scheduled = SyncScheduledResponse()
        emit(args, scheduled, lambda: "scheduled: the leading worker runs a cycle shortly")
        return EXIT_OK
    completed = SyncCompletedResponse.of(report)
    emit(args, completed, lambda: fields_table(completed.report))
    return EXIT_FAILED if report.errors else EXIT_OK


def _sync(args: argparse.Namespace) -> int:
    if args.sync_command is None and not args.once:
        raise UsageError(
            "gharts sync needs --once (the reconciliation loop is `gharts worker`), "
            "or a subcommand: status, trigger"
        )
    if args.sync_command is not None and args.once:
        raise UsageError("gharts sync: give --once or a subcommand, not both")
    return run_sync(args)


def add_sync_parser(commands: Any) -> None:
    """Register ``gharts sync`` with ``--once`` and its ``status`` and ``trigger`` subcommands."""
    sync = commands.add_parser(
        "sync",
        help="run one sync cycle now, or read and trigger the worker",
        description="With --once: run one reconciliation cycle and print its report as JSON; "
        "exit status 1 when the cycle met errors, or when another worker leads (CONFLICT).",
    )
    sync.add_argument("--once", action="store_true", help="run one cycle in this process")
    sync.set_defaults(func=_sync)
    subcommands = sync.add_subparsers(dest="sync_command", metavar="SUBCOMMAND")
    add_command(
        subcommands, "status", help="the worker's leader, heartbeat and last cycle",
        description="Show the shared sync state: the leading worker, its heartbeat, the last "
        "cycle's counts and errors.",
        examples=["gharts sync status"], action=_status,
    )  # fmt: skip
    add_command(
        subcommands, "trigger", help="ask for a sync cycle now", writes=True,
        description="Ask the leading worker for a cycle now; with no worker leading, run it here "
        "and print its report (not in simulator mode, as under gharts dev: exit status 2, ask "
        "the server instead). Exit status 1 when the cycle met errors.",
        examples=["gharts sync trigger"], action=_trigger, require_github=True,
    )  # fmt: skip
