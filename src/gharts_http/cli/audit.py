"""``gharts audit export`` and ``gharts policy check``: reading the stored data, offline.

The export writes exactly what ``GET /api/v1/admin/audit/export`` streams (the same formatters),
to a file or to stdout. The policy check evaluates labels against a team's stored policy with
the same service as ``POST /api/v1/policy/check``; exit status 0 when allowed, 3 when refused.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from gharts_core.model import AuditOutcome
from gharts_core.services.admin_audit import AuditQuery
from gharts_http.api.schemas.audit import ExportFormat
from gharts_http.api.schemas.runners import PolicyCheckResponse
from gharts_http.audit_export import audit_lines
from gharts_http.bootstrap import Services
from gharts_http.cli.errors import EXIT_OK, EXIT_REFUSED, UsageError
from gharts_http.cli.output import Table, add_output_option, emit
from gharts_http.cli.support import comma_list, operator, timestamp, with_services


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[TextIO]:
    """Yield stdout, or a new file written in full only when the export succeeds."""
    if path is None:
        yield sys.stdout
        return
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as stream:
            yield stream
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


async def _export(args: argparse.Namespace, services: Services) -> int:
    query = AuditQuery(
        actor=args.actor,
        action=args.action,
        team=args.team,
        target=args.target,
        outcome=args.outcome,
        since=args.since,
        until=args.until,
    )
    events = await services.audit.export_audit(operator(args), query)
    try:
        with _output(args.output) as stream:
            async for line in audit_lines(events, args.format):
                stream.write(line)
    except OSError as error:
        raise UsageError(f"--output {args.output}: {error.strerror or error}") from error
    return EXIT_OK


async def _policy_check(args: argparse.Namespace, services: Services) -> int:
    result = await services.policy.check(operator(args), args.labels, team_name=args.team)
    response = PolicyCheckResponse.of(result)

    def table() -> str:
        verdict = "allowed" if response.allowed else "refused"
        labels = ",".join(response.labels) or "-"
        lines = [f"{verdict}: {labels}"]
        if response.violations:
            rows = tuple((v.label, v.reason, v.message) for v in response.violations)
            lines.append(Table(("LABEL", "REASON", "MESSAGE"), rows).render())
        return "\n".join(lines)

    emit(args, response, table)
    return EXIT_OK if result.allowed else EXIT_REFUSED


def add_audit_parser(commands: Any) -> None:
    """Register ``gharts audit export``."""
    audit = commands.add_parser("audit", help="read the audit log").add_subparsers(
        dest="audit_command", required=True, metavar="SUBCOMMAND"
    )
    export = audit.add_parser(
        "export",
        help="export audit rows as JSON Lines or CSV",
        description="Export the audit rows matching the filters, newest first, in the format "
        "of GET /api/v1/admin/audit/export.\n\n"
        "Example: gharts audit export --format csv --since 2026-01-01T00:00:00Z",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument(
        "--format",
        type=ExportFormat,
        choices=list(ExportFormat),
        default=ExportFormat.JSONL,
        help="jsonl (default) or csv",
    )
    export.add_argument("--output", "-o", help="file to write (default: stdout)")
    export.add_argument("--actor", help="actor name (an email, a client subject, 'system')")
    export.add_argument("--action", help="action, e.g. runner.provision")
    export.add_argument("--team", help="team name")
    export.add_argument("--target", help="target id")
    export.add_argument("--outcome", type=AuditOutcome, choices=list(AuditOutcome), help="outcome")
    export.add_argument("--since", type=timestamp, help="from this time (ISO 8601 with offset)")
    export.add_argument("--until", type=timestamp, help="before this time (ISO 8601)")
    export.set_defaults(func=lambda args: with_services(args, lambda s: _export(args, s)))


def add_policy_parser(commands: Any) -> None:
    """Register ``gharts policy check``."""
    policy = commands.add_parser("policy", help="evaluate team policies").add_subparsers(
        dest="policy_command", required=True, metavar="SUBCOMMAND"
    )
    check = policy.add_parser(
        "check",
        help="evaluate labels against a team's stored policy",
        description="Print the policy's decision. Exit status 0 when the labels are "
        "allowed, 3 when they are refused. Nothing is provisioned.\n\n"
        "Example: gharts policy check --team demo --labels gpu-a100,size-small",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_output_option(check)
    check.add_argument("--team", required=True, help="team name")
    check.add_argument(
        "--labels", required=True, type=comma_list, help="labels to check, comma-separated"
    )
    check.set_defaults(func=lambda args: with_services(args, lambda s: _policy_check(args, s)))
