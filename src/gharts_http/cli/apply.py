"""``gharts apply -f teams.toml`` and ``gharts export``: the organisation's teams as a file.

``apply`` checks the whole file first (a bad file changes nothing), plans, prints the plan and
makes the changes one by one through the admin services, as the operator. ``--plan`` stops after
printing; with ``--detailed-exitcode`` it exits 0 when nothing would change and 4 when something
would, so CI can gate on drift. ``--prune`` also deactivates the teams and disables the clients
the file does not declare. ``export`` writes the current state in the same format, so that
``export`` then ``apply --plan`` plans nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gharts_core.errors import GhartsError
from gharts_http.bootstrap import Services
from gharts_http.cli.errors import EXIT_CHANGES, EXIT_OK, EXIT_USAGE, UsageError, print_error
from gharts_http.cli.output import emit
from gharts_http.cli.parsing import add_command
from gharts_http.cli.plan import Change, exported, plan_changes, read_state
from gharts_http.cli.support import operator, with_services
from gharts_http.cli.teams_file import (
    TeamsFile,
    TeamsFileError,
    read_teams_file,
    untrusted_issuers,
)
from gharts_http.cli.teams_file_writer import dump_teams_file

_SIGNS = {"create": "+", "add": "+", "enable": "+", "reactivate": "+", "update": "~"}


def _value(value: object) -> str:
    """Return a field's value as the teams file spells it (``null`` for no limit)."""
    return json.dumps(value, ensure_ascii=False)


def _field_lines(change: Change) -> list[str]:
    after: Mapping[str, object] = change.after or {}
    if change.before is None:
        return [f"      {name}: {_value(value)}" for name, value in after.items()]
    return [
        f"      {name}: {_value(change.before[name])} -> {_value(value)}"
        for name, value in after.items()
    ]


def render_plan(changes: Sequence[Change], path: str) -> str:
    """Return the plan as a person reads it: one line per change, fields under updates."""
    if not changes:
        return f"No changes: the database matches {path}."
    lines = []
    for change in changes:
        sign = _SIGNS.get(change.action, "-")
        lines.append(f"{sign} {change.action} {change.kind} {change.target}")
        if change.kind != "user":
            lines += _field_lines(change)
    counts = Counter(_SIGNS.get(change.action, "-") for change in changes)
    lines.append(
        f"\nPlan: {counts['+']} to create or enable, {counts['~']} to update, "
        f"{counts['-']} to remove, deactivate or disable."
    )
    return "\n".join(lines)


def _report(args: argparse.Namespace, changes: Sequence[Change], *, applied: int | None) -> None:
    value = {
        "file": args.file,
        "changed": bool(changes),
        "applied": applied,
        "changes": [change.as_json() for change in changes],
    }
    text = render_plan(changes, args.file)
    if applied is not None and changes:
        text += f"\nApplied {applied} of {len(changes)} changes."
    emit(args, value, lambda: text)


def _run_apply(args: argparse.Namespace) -> int:
    """Check the file before anything else: a bad file needs no database to be refused."""
    if args.detailed_exitcode and not args.plan:
        raise UsageError("--detailed-exitcode goes with --plan")
    try:
        declared = read_teams_file(args.file)
    except TeamsFileError as error:
        for problem in error.problems:
            print_error("INVALID_TEAMS_FILE", problem)
        return EXIT_USAGE
    return with_services(args, lambda services: _apply(args, services, declared))


async def _apply(args: argparse.Namespace, services: Services, declared: TeamsFile) -> int:
    untrusted = untrusted_issuers(declared, (i.issuer for i in services.settings.auth.issuers))
    for problem in untrusted:
        print_error("INVALID_TEAMS_FILE", f"{args.file}: {problem}")
    if untrusted:
        return EXIT_USAGE
    principal = operator(args)
    reason = f"not declared in {Path(args.file).name} (gharts apply --prune)"
    changes = plan_changes(
        await read_state(services, principal), declared, prune=args.prune, reason=reason
    )
    if args.plan:
        _report(args, changes, applied=None)
        return EXIT_CHANGES if args.detailed_exitcode and changes else EXIT_OK
    done = 0
    for change in changes:
        try:
            await change.step(services, principal)
        except GhartsError:
            _report(args, changes, applied=done)
            print_error(
                "APPLY_STOPPED",
                f"{change.action} {change.kind} {change.target} failed; the {done} changes "
                "before it were made, the rest were not",
            )
            raise
        done += 1
    _report(args, changes, applied=done)
    return EXIT_OK


async def _export(args: argparse.Namespace, services: Services) -> int:
    text = dump_teams_file(exported(await read_state(services, operator(args))))
    if args.file in (None, "-"):
        print(text, end="")
        return EXIT_OK
    try:
        await asyncio.to_thread(Path(args.file).write_text, text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"-f {args.file}: {error.strerror or error}") from error
    return EXIT_OK


def add_file_parsers(commands: Any) -> None:
    """Register ``gharts apply`` and ``gharts export``."""
    export = add_command(
        commands, "export", help="write the teams, members and clients as a teams file",
        description="Write the active teams with their members and enabled machine clients in "
        "the format of `gharts apply`.",
        examples=["gharts export -f teams.toml"], action=_export, output=False,
    )  # fmt: skip
    export.add_argument("-f", "--file", help="where to write it (default: stdout)")
    apply = add_command(
        commands, "apply", help="make teams, members and clients match a teams file",
        writes=True,
        description="Check the file, plan the changes that make the database match it, print "
        "the plan and make them (each through the admin services, audited with the operator "
        "as actor). --plan only prints; --detailed-exitcode then exits 4 when there are "
        "changes. --prune also deactivates the teams and disables the clients the file does "
        "not declare.",
        examples=["gharts apply -f teams.toml --plan --detailed-exitcode",
                  "gharts apply -f teams.toml"],
    )  # fmt: skip
    apply.add_argument("-f", "--file", required=True, help="the teams file (TOML)")
    apply.set_defaults(func=_run_apply)
    apply.add_argument("--plan", action="store_true", help="print the plan, change nothing")
    apply.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="with --plan: exit 0 when nothing would change, 4 when something would",
    )
    apply.add_argument(
        "--prune",
        action="store_true",
        help="deactivate teams and disable clients the file does not declare",
    )
