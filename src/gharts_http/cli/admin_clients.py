"""``gharts admin clients ...``: list, show, create, update, disable, enable machine clients.

A client is named by its id or its subject. Changes go through the admin service (the same checks
and audit rows as the API), as the operator.
"""

from __future__ import annotations

import argparse
from typing import Any

from gharts_core.ports.storage import Page
from gharts_core.services.admin_clients import ClientQuery, CreateClient, UpdateClient
from gharts_http.api.schemas.admin import ClientListResponse, ClientResponse
from gharts_http.bootstrap import Services
from gharts_http.cli.errors import EXIT_OK
from gharts_http.cli.lookups import client_by_ref
from gharts_http.cli.output import emit, fields_table, rows_table
from gharts_http.cli.parsing import add_command
from gharts_http.cli.support import non_negative, operator, page_size
from gharts_http.cli.switches import patch_of, switch

_COLUMNS = ("subject", "team", "is_active", "can_use_jit", "can_use_registration_token", "issuer")
_GITHUB_ACTIONS = "https://token.actions.githubusercontent.com"


def _show(args: argparse.Namespace, response: ClientResponse) -> None:
    emit(args, response, lambda: fields_table(response))


async def _list(args: argparse.Namespace, services: Services) -> int:
    query = ClientQuery(team=args.team, issuer=args.issuer, is_active=args.active)
    page = Page(limit=args.limit, offset=args.offset)
    found = await services.clients.list_clients(operator(args), query, page)
    response = ClientListResponse.of(found)
    emit(args, response, lambda: rows_table(response.clients, _COLUMNS, total=response.total))
    return EXIT_OK


async def _get(args: argparse.Namespace, services: Services) -> int:
    _show(args, ClientResponse.of(await client_by_ref(services, operator(args), args.client)))
    return EXIT_OK


async def _create(args: argparse.Namespace, services: Services) -> int:
    command = CreateClient(
        issuer=args.issuer,
        subject=args.subject,
        team=args.team,
        description=args.description,
        can_use_jit=args.jit,
        can_use_registration_token=args.registration_token,
    )
    _show(args, ClientResponse.of(await services.clients.create_client(operator(args), command)))
    return EXIT_OK


async def _update(args: argparse.Namespace, services: Services) -> int:
    principal = operator(args)
    client = (await client_by_ref(services, principal, args.client)).client
    command = UpdateClient(
        description=patch_of(args.description),
        team=patch_of(args.team),
        can_use_jit=patch_of(args.jit),
        can_use_registration_token=patch_of(args.registration_token),
    )
    details = await services.clients.update_client(principal, client.id, command)
    _show(args, ClientResponse.of(details))
    return EXIT_OK


async def _disable(args: argparse.Namespace, services: Services) -> int:
    principal = operator(args)
    client = (await client_by_ref(services, principal, args.client)).client
    details = await services.clients.disable_client(principal, client.id, args.reason)
    _show(args, ClientResponse.of(details))
    return EXIT_OK


async def _enable(args: argparse.Namespace, services: Services) -> int:
    principal = operator(args)
    client = (await client_by_ref(services, principal, args.client)).client
    _show(args, ClientResponse.of(await services.clients.enable_client(principal, client.id)))
    return EXIT_OK


def _client_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("client", metavar="CLIENT", help="the client's id or subject")


def add_clients_parser(admin: Any) -> None:
    """Register ``gharts admin clients`` and its subcommands."""
    clients = admin.add_parser("clients", help="machine clients of teams").add_subparsers(
        dest="clients_command", required=True, metavar="SUBCOMMAND"
    )
    listing = add_command(
        clients, "list", help="list machine clients", action=_list,
        description="List machine clients, oldest first.",
        examples=["gharts admin clients list --team demo"],
    )  # fmt: skip
    listing.add_argument("--team", help="only clients of this team")
    listing.add_argument("--issuer", help="only clients of this issuer")
    switch(listing, "--active", "only enabled clients (--no-active: only disabled ones)")
    listing.add_argument(
        "--limit", type=page_size, default=100, help="page size, 1-500 (default 100)"
    )
    listing.add_argument("--offset", type=non_negative, default=0, help="clients to skip")

    show = add_command(
        clients, "show", help="show one machine client", description="Show one machine client.",
        examples=["gharts admin clients show demo-ci"], action=_get,
    )  # fmt: skip
    _client_argument(show)

    create = add_command(
        clients, "create", help="register a machine client of a team", writes=True,
        description="Register a machine identity (an OIDC issuer and subject) for a team.",
        examples=[(f"gharts admin clients create --issuer {_GITHUB_ACTIONS} "
                  "--subject repo:acme/ml:ref:refs/heads/main --team demo")],
        action=_create,
    )  # fmt: skip
    create.add_argument("--issuer", required=True, help="the trusted issuer URL")
    create.add_argument("--subject", required=True, help="the token's sub claim")
    create.add_argument("--team", required=True, help="the team it provisions for")
    create.add_argument("--description", default="", help="what the client is")
    create.add_argument("--no-jit", dest="jit", action="store_false", help="may not use JIT")
    create.add_argument(
        "--registration-token", action="store_true", help="may use registration tokens"
    )

    update = add_command(
        clients, "update", help="change a client's team, description or capabilities",
        writes=True, description="Change the given fields of a client; the others keep "
        "their value.",
        examples=["gharts admin clients update demo-ci --registration-token"], action=_update,
    )  # fmt: skip
    _client_argument(update)
    update.add_argument("--description", help="a new description")
    update.add_argument("--team", help="move the client to this team")
    switch(update, "--jit", "may provision JIT runners (--no-jit: may not)")
    switch(update, "--registration-token", "may use registration tokens (--no-...: may not)")

    disable = add_command(
        clients, "disable", help="refuse a client's tokens", writes=True, action=_disable,
        description="Disable a client: its tokens are refused from now on.",
        examples=["gharts admin clients disable demo-ci --reason 'credentials rotated'"],
    )  # fmt: skip
    _client_argument(disable)
    disable.add_argument("--reason", help="why (recorded in the audit log)")

    enable = add_command(
        clients, "enable", help="accept a disabled client's tokens again", writes=True,
        description="Enable a disabled client.", examples=["gharts admin clients enable demo-ci"],
        action=_enable,
    )  # fmt: skip
    _client_argument(enable)
