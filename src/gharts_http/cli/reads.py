"""``gharts stats`` and ``gharts security-events list``: what the admin dashboard reads.

Both go through the admin audit service, with the API's response shapes for ``--output json``.
"""

from __future__ import annotations

import argparse
from typing import Any

from gharts_core.model import SecurityEventType, Severity
from gharts_core.ports.storage import Page
from gharts_core.services.admin_audit import SecurityEventQuery
from gharts_http.api.schemas.audit import SecurityEventListResponse, StatsResponse
from gharts_http.bootstrap import Services
from gharts_http.cli.errors import EXIT_OK
from gharts_http.cli.output import Table, cell, emit, fields_table
from gharts_http.cli.parsing import add_command
from gharts_http.cli.support import non_negative, operator, page_size, timestamp


async def _stats(args: argparse.Namespace, services: Services) -> int:
    response = StatsResponse.of(await services.audit.stats(operator(args)))

    def table() -> str:
        summary = fields_table(response, exclude=("runners_by_team",)).render()
        rows = tuple(
            (team, cell(counts)) for team, counts in sorted(response.runners_by_team.items())
        )
        return f"{summary}\n\nlive runners by team:\n{Table(('TEAM', 'RUNNERS'), rows).render()}"

    emit(args, response, table)
    return EXIT_OK


async def _security_events(args: argparse.Namespace, services: Services) -> int:
    query = SecurityEventQuery(
        type=args.type,
        severity=args.severity,
        team=args.team,
        since=args.since,
        until=args.until,
    )
    page = Page(limit=args.limit, offset=args.offset)
    found = await services.audit.list_security_events(operator(args), query, page)
    response = SecurityEventListResponse.of(found)

    def table() -> str:
        rows = tuple(
            (cell(e.at), str(e.severity), str(e.type), cell(e.team_name), cell(e.message))
            for e in response.events
        )
        rendered = Table(("AT", "SEVERITY", "TYPE", "TEAM", "MESSAGE"), rows).render()
        shown = len(response.events)
        return rendered + ("" if shown == response.total else f"\n({shown} of {response.total})")

    emit(args, response, table)
    return EXIT_OK


def add_read_parsers(commands: Any) -> None:
    """Register ``gharts stats`` and ``gharts security-events list``."""
    add_command(
        commands, "stats", help="counts of runners, users, teams, clients, violations",
        description="Runner counts by status and team, users, teams, clients, and the security "
        "events of the last 24 hours.",
        examples=["gharts stats"], action=_stats,
    )  # fmt: skip
    events = commands.add_parser("security-events", help="read the security events")
    listing = add_command(
        events.add_subparsers(dest="events_command", required=True, metavar="SUBCOMMAND"),
        "list", help="list security events, newest first", action=_security_events,
        description="List the security events matching the filters, newest first.",
        examples=["gharts security-events list --severity warning --since 2026-01-01T00:00:00Z"],
    )  # fmt: skip
    listing.add_argument("--type", type=SecurityEventType, choices=list(SecurityEventType))
    listing.add_argument("--severity", type=Severity, choices=list(Severity))
    listing.add_argument("--team", help="team name")
    listing.add_argument("--since", type=timestamp, help="from this time (ISO 8601 with offset)")
    listing.add_argument("--until", type=timestamp, help="before this time (ISO 8601)")
    listing.add_argument(
        "--limit", type=page_size, default=100, help="page size, 1-500 (default 100)"
    )
    listing.add_argument("--offset", type=non_negative, default=0, help="events to skip")
