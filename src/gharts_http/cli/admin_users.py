"""``gharts admin users ...``: list, show, create, update, deactivate, reactivate.

A user is named by email or id. Changes go through the admin service (the same checks and audit
rows as the API), as the operator.
"""

from __future__ import annotations

import argparse
from typing import Any

from gharts_core.ports.storage import Page
from gharts_core.services.admin_users import CreateUser, UpdateUser, UserQuery
from gharts_http.api.schemas.admin import UserListResponse, UserResponse
from gharts_http.bootstrap import Services
from gharts_http.cli.errors import EXIT_OK
from gharts_http.cli.lookups import user_by_ref
from gharts_http.cli.output import emit, fields_table, rows_table
from gharts_http.cli.parsing import add_command
from gharts_http.cli.support import comma_list, non_negative, operator, page_size
from gharts_http.cli.switches import patch_of, switch

_COLUMNS = ("email", "display_name", "is_admin", "is_active", "teams")


def _show(args: argparse.Namespace, response: UserResponse) -> None:
    emit(args, response, lambda: fields_table(response))


async def _list(args: argparse.Namespace, services: Services) -> int:
    query = UserQuery(email=args.email, team=args.team, is_admin=args.admin, is_active=args.active)
    page = Page(limit=args.limit, offset=args.offset)
    response = UserListResponse.of(await services.users.list_users(operator(args), query, page))
    emit(args, response, lambda: rows_table(response.users, _COLUMNS, total=response.total))
    return EXIT_OK


async def _get(args: argparse.Namespace, services: Services) -> int:
    principal = operator(args)
    user = await user_by_ref(services, principal, args.user)
    _show(args, UserResponse.of(await services.users.get_user(principal, user.id)))
    return EXIT_OK


async def _create(args: argparse.Namespace, services: Services) -> int:
    command = CreateUser(
        email=args.email,
        display_name=args.name,
        is_admin=args.admin,
        can_use_jit=args.jit,
        can_use_registration_token=args.registration_token,
        teams=args.teams,
    )
    _show(args, UserResponse.of(await services.users.create_user(operator(args), command)))
    return EXIT_OK


async def _update(args: argparse.Namespace, services: Services) -> int:
    principal = operator(args)
    user = await user_by_ref(services, principal, args.user)
    command = UpdateUser(
        display_name=patch_of(args.name),
        is_admin=patch_of(args.admin),
        can_use_jit=patch_of(args.jit),
        can_use_registration_token=patch_of(args.registration_token),
    )
    _show(args, UserResponse.of(await services.users.update_user(principal, user.id, command)))
    return EXIT_OK


async def _deactivate(args: argparse.Namespace, services: Services) -> int:
    principal = operator(args)
    user = await user_by_ref(services, principal, args.user)
    details = await services.users.deactivate_user(principal, user.id, args.reason)
    _show(args, UserResponse.of(details))
    return EXIT_OK


async def _reactivate(args: argparse.Namespace, services: Services) -> int:
    principal = operator(args)
    user = await user_by_ref(services, principal, args.user)
    _show(args, UserResponse.of(await services.users.reactivate_user(principal, user.id)))
    return EXIT_OK


def _user_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("user", metavar="USER", help="the user's email or id")


def add_users_parser(admin: Any) -> None:
    """Register ``gharts admin users`` and its subcommands."""
    users = admin.add_parser("users", help="list, show, create and change users").add_subparsers(
        dest="users_command", required=True, metavar="SUBCOMMAND"
    )
    listing = add_command(
        users, "list", help="list users", description="List users, ordered by email.",
        examples=["gharts admin users list --team demo"], action=_list,
    )  # fmt: skip
    listing.add_argument("--email", help="only emails containing this text")
    listing.add_argument("--team", help="only members of this team")
    switch(listing, "--admin", "only admins (--no-admin: only the others)")
    switch(listing, "--active", "only active users (--no-active: only deactivated ones)")
    listing.add_argument(
        "--limit", type=page_size, default=100, help="page size, 1-500 (default 100)"
    )
    listing.add_argument("--offset", type=non_negative, default=0, help="users to skip (default 0)")

    show = add_command(
        users, "show", help="show one user and its teams", description="Show one user.",
        examples=["gharts admin users show admin@gharts.dev"], action=_get,
    )  # fmt: skip
    _user_argument(show)

    create = add_command(
        users, "create", help="create a user", writes=True, action=_create,
        description="Create a user who may call gharts (matched by email on first login).",
        examples=["gharts admin users create --email ada@example.com --name Ada --teams demo"],
    )  # fmt: skip
    create.add_argument("--email", required=True, help="the person's email (their identity)")
    create.add_argument("--name", required=True, help="display name")
    create.add_argument("--admin", action="store_true", help="make the user an admin")
    create.add_argument(
        "--teams", type=comma_list, default=(), help="teams to join, comma-separated"
    )
    create.add_argument("--no-jit", dest="jit", action="store_false", help="may not use JIT")
    create.add_argument(
        "--registration-token", action="store_true", help="may use registration tokens"
    )

    update = add_command(
        users, "update", help="change a user's name, admin flag or capabilities", writes=True,
        description="Change the given fields of a user; the others keep their value. The last "
        "active admin cannot be demoted.",
        examples=["gharts admin users update ada@example.com --name 'Ada L.' --registration-token"],
        action=_update,
    )  # fmt: skip
    _user_argument(update)
    update.add_argument("--name", help="a new display name")
    switch(update, "--admin", "make an admin (--no-admin: demote)")
    switch(update, "--jit", "may provision JIT runners (--no-jit: may not)")
    switch(update, "--registration-token", "may use registration tokens (--no-...: may not)")

    deactivate = add_command(
        users, "deactivate", help="stop a user from calling gharts", writes=True,
        description="Deactivate a user; the reason is recorded. The last active admin cannot "
        "be deactivated.",
        examples=["gharts admin users deactivate ada@example.com --reason 'left the company'"],
        action=_deactivate,
    )  # fmt: skip
    _user_argument(deactivate)
    deactivate.add_argument("--reason", required=True, help="why (recorded in the audit log)")

    reactivate = add_command(
        users, "reactivate", help="let a deactivated user call gharts again", writes=True,
        description="Reactivate a deactivated user.",
        examples=["gharts admin users reactivate ada@example.com"], action=_reactivate,
    )  # fmt: skip
    _user_argument(reactivate)
