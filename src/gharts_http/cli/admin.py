"""``gharts admin ...``: users, teams and machine clients, as the system principal.

Every command goes through the same core services as the admin API (the same checks, the same
audit rows, recorded with the ``system`` actor) and prints the result as the API would show it.
"""

from __future__ import annotations

import argparse
from typing import Any

from gharts_core.errors import UserNotFound
from gharts_core.ports.storage import Page
from gharts_core.services.admin_clients import CreateClient
from gharts_core.services.admin_teams import DEFAULT_RUNNER_GROUP_ID, CreateTeam
from gharts_core.services.admin_users import CreateUser, UserQuery
from gharts_http.api.schemas.admin import (
    ClientResponse,
    MembershipResponse,
    UserListResponse,
    UserResponse,
)
from gharts_http.api.schemas.teams import TeamResponse
from gharts_http.bootstrap import Services
from gharts_http.cli.errors import EXIT_OK
from gharts_http.cli.support import (
    SYSTEM,
    comma_list,
    int_list,
    non_negative,
    page_size,
    print_json,
    with_services,
)


async def _create_admin(args: argparse.Namespace, services: Services) -> int:
    ensured = await services.users.ensure_admin(args.email, args.name, reactivate=True)
    details = await services.users.get_user(SYSTEM, ensured.user.id)
    print_json({"created": ensured.created, "user": UserResponse.of(details)})
    return EXIT_OK


async def _list_users(args: argparse.Namespace, services: Services) -> int:
    query = UserQuery(email=args.email, team=args.team)
    page = Page(limit=args.limit, offset=args.offset)
    print_json(UserListResponse.of(await services.users.list_users(SYSTEM, query, page)))
    return EXIT_OK


async def _create_user(args: argparse.Namespace, services: Services) -> int:
    command = CreateUser(
        email=args.email,
        display_name=args.name,
        is_admin=args.admin,
        can_use_jit=not args.no_jit,
        can_use_registration_token=args.registration_token,
        teams=args.teams,
    )
    print_json(UserResponse.of(await services.users.create_user(SYSTEM, command)))
    return EXIT_OK


async def _create_team(args: argparse.Namespace, services: Services) -> int:
    command = CreateTeam(
        name=args.name,
        description=args.description,
        required_labels=args.required_labels,
        optional_label_patterns=tuple(args.patterns),
        allowed_runner_group_ids=args.runner_groups,
        default_runner_group_id=args.default_runner_group,
        max_runners=args.max_runners,
    )
    print_json(TeamResponse.of(await services.teams.create_team(SYSTEM, command)))
    return EXIT_OK


async def _add_member(args: argparse.Namespace, services: Services) -> int:
    await services.teams.get_team(SYSTEM, args.team)
    email = args.email.strip().lower()
    found = await services.users.list_users(SYSTEM, UserQuery(email=email), Page(limit=500))
    user = next((d.user for d in found.items if d.user.email == email), None)
    if user is None:
        raise UserNotFound(args.email)
    change = await services.teams.add_member(SYSTEM, args.team, user.id)
    print_json(MembershipResponse.of(change))
    return EXIT_OK


async def _create_client(args: argparse.Namespace, services: Services) -> int:
    command = CreateClient(
        issuer=args.issuer,
        subject=args.subject,
        team=args.team,
        description=args.description,
        can_use_jit=not args.no_jit,
        can_use_registration_token=args.registration_token,
    )
    print_json(ClientResponse.of(await services.clients.create_client(SYSTEM, command)))
    return EXIT_OK


def _runs(action: Any) -> Any:
    """Return the ``func`` of a subcommand that runs ``action(args, services)``."""
    return lambda args: with_services(args, lambda services: action(args, services))


def _capabilities(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-jit", action="store_true", help="may not provision JIT runners")
    parser.add_argument(
        "--registration-token",
        action="store_true",
        help="may use the legacy registration-token flow",
    )


def _users_parser(admin: Any) -> None:
    users = admin.add_parser("users", help="list or create users").add_subparsers(
        dest="users_command", required=True, metavar="SUBCOMMAND"
    )
    listing = users.add_parser("list", help="list users (JSON)", description="List users.")
    listing.add_argument("--email", help="only emails containing this text")
    listing.add_argument("--team", help="only members of this team")
    listing.add_argument(
        "--limit", type=page_size, default=100, help="page size, 1-500 (default 100)"
    )
    listing.add_argument("--offset", type=non_negative, default=0, help="users to skip (default 0)")
    listing.set_defaults(func=_runs(_list_users))
    create = users.add_parser("create", help="create a user", description="Create a user.")
    create.add_argument("--email", required=True, help="the person's email (their identity)")
    create.add_argument("--name", required=True, help="display name")
    create.add_argument("--admin", action="store_true", help="make the user an admin")
    create.add_argument(
        "--teams", type=comma_list, default=(), help="teams to join, comma-separated"
    )
    _capabilities(create)
    create.set_defaults(func=_runs(_create_user))


def _teams_parser(admin: Any) -> None:
    teams = admin.add_parser("teams", help="create teams, add members").add_subparsers(
        dest="teams_command", required=True, metavar="SUBCOMMAND"
    )
    create = teams.add_parser(
        "create",
        help="create a team with its label policy",
        description="Create a team. Example: gharts admin teams create ml --required-labels "
        "ml,linux --patterns 'gpu-.*' --max-runners 10 --runner-groups 1",
    )
    create.add_argument("name", help="team name: lower case letters, digits and '-'")
    create.add_argument("--description", default="", help="what the team is")
    create.add_argument(
        "--required-labels",
        type=comma_list,
        default=(),
        help="labels every runner gets, comma-separated",
    )
    create.add_argument(
        "--patterns",
        action="append",
        default=[],
        metavar="REGEX",
        help="a pattern optional labels must match in full; repeat the option for several "
        "(patterns are not split on commas)",
    )
    create.add_argument(
        "--runner-groups",
        type=int_list,
        default=(DEFAULT_RUNNER_GROUP_ID,),
        help=f"allowed runner group ids, comma-separated (default: {DEFAULT_RUNNER_GROUP_ID})",
    )
    create.add_argument("--default-runner-group", type=int, help="default runner group id")
    create.add_argument("--max-runners", type=int, help="quota of live runners (default: none)")
    create.set_defaults(func=_runs(_create_team))
    add = teams.add_parser(
        "add-member", help="add a user to a team", description="Add a user to a team."
    )
    add.add_argument("team", help="team name")
    add.add_argument("email", help="the user's email")
    add.set_defaults(func=_runs(_add_member))


def add_admin_parser(commands: Any) -> None:
    """Register ``gharts admin`` and its subcommands."""
    admin = commands.add_parser(
        "admin",
        help="manage admins, users, teams and machine clients",
        description="Manage gharts as the system principal (no token needed; the database "
        "from the configuration). Results are printed as JSON.",
    ).add_subparsers(dest="admin_command", required=True, metavar="SUBCOMMAND")
    create_admin = admin.add_parser(
        "create-admin",
        help="create an admin, or make an existing user an active admin",
        description="Create an admin (or promote and reactivate the user with this email).",
    )
    create_admin.add_argument("--email", required=True, help="the admin's email")
    create_admin.add_argument("--name", required=True, help="display name (for a new user)")
    create_admin.set_defaults(func=_runs(_create_admin))
    _users_parser(admin)
    _teams_parser(admin)
    clients = admin.add_parser("clients", help="register machine clients").add_subparsers(
        dest="clients_command", required=True, metavar="SUBCOMMAND"
    )
    create = clients.add_parser(
        "create",
        help="register a machine client of a team",
        description="Register a machine identity (an OIDC issuer and subject) for a team.",
    )
    create.add_argument("--issuer", required=True, help="the trusted issuer URL")
    create.add_argument("--subject", required=True, help="the token's sub claim")
    create.add_argument("--team", required=True, help="the team it provisions for")
    create.add_argument("--description", default="", help="what the client is")
    _capabilities(create)
    create.set_defaults(func=_runs(_create_client))
