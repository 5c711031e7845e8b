"""``gharts admin ...``: admins, users, teams and machine clients, as the operator.

Every command goes through the same core services as the admin API (the same checks, the same
audit rows) and prints the result as the API would show it (``--output json``) or as a table.
Changes are recorded with the operator as the actor: ``--actor NAME``, or ``<os-user>@<host>``.
"""

from __future__ import annotations

import argparse
from typing import Any

from gharts_http.api.schemas.admin import UserResponse
from gharts_http.bootstrap import Services
from gharts_http.cli.admin_clients import add_clients_parser
from gharts_http.cli.admin_teams import add_teams_parser
from gharts_http.cli.admin_users import add_users_parser
from gharts_http.cli.errors import EXIT_OK
from gharts_http.cli.output import emit, fields_table
from gharts_http.cli.parsing import add_command
from gharts_http.cli.support import operator


async def _create_admin(args: argparse.Namespace, services: Services) -> int:
    principal = operator(args)
    ensured = await services.users.ensure_admin(
        args.email, args.name, reactivate=True, actor=principal.actor
    )
    user = UserResponse.of(await services.users.get_user(principal, ensured.user.id))
    emit(args, {"created": ensured.created, "user": user}, lambda: fields_table(user))
    return EXIT_OK


def add_admin_parser(commands: Any) -> None:
    """Register ``gharts admin`` and its subcommands."""
    admin = commands.add_parser(
        "admin",
        help="manage admins, users, teams and machine clients",
        description="Manage gharts on the configured database, with no token: the command "
        "acts as an admin and the audit log names the operator (--actor, or <os-user>@<host>).",
    ).add_subparsers(dest="admin_command", required=True, metavar="SUBCOMMAND")
    create_admin = add_command(
        admin,
        "create-admin",
        help="create an admin, or make an existing user an active admin",
        description="Create an admin (or promote and reactivate the user with this email).",
        examples=["gharts admin create-admin --email root@example.com --name Root"],
        writes=True,
        action=_create_admin,
    )
    create_admin.add_argument("--email", required=True, help="the admin's email")
    create_admin.add_argument("--name", required=True, help="display name (for a new user)")
    add_users_parser(admin)
    add_teams_parser(admin)
    add_clients_parser(admin)
