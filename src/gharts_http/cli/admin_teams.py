"""``gharts admin teams ...``: list, show, create, update, (de)activate, add and remove members.

Teams are named as in the API; members by email or id. Changes go through the admin service (the
same checks and audit rows as the API), as the operator.
"""

from __future__ import annotations

import argparse
from typing import Any

import attrs

from gharts_core.ports.storage import Page
from gharts_core.services.admin_teams import (
    DEFAULT_RUNNER_GROUP_ID,
    CreateTeam,
    TeamQuery,
    UpdateTeam,
)
from gharts_http.api.schemas.admin import MemberListResponse, MembershipResponse
from gharts_http.api.schemas.teams import TeamListResponse, TeamResponse
from gharts_http.bootstrap import Services
from gharts_http.cli.errors import EXIT_OK, UsageError
from gharts_http.cli.lookups import user_by_ref
from gharts_http.cli.output import emit, fields_table, rows_table
from gharts_http.cli.parsing import add_command
from gharts_http.cli.support import comma_list, int_list, non_negative, operator, page_size
from gharts_http.cli.switches import patch_of, switch

_COLUMNS = ("name", "is_active", "required_labels", "optional_label_patterns", "max_runners")


@attrs.frozen
class TeamWithMembers:
    """``admin teams show``: the team as the API shows it, and its members."""

    team: TeamResponse
    members: MemberListResponse


def _show(args: argparse.Namespace, response: TeamResponse) -> None:
    emit(args, response, lambda: fields_table(response))


async def _list(args: argparse.Namespace, services: Services) -> int:
    page = Page(limit=args.limit, offset=args.offset)
    found = await services.teams.list_teams(operator(args), TeamQuery(is_active=args.active), page)
    response = TeamListResponse.of(found)
    emit(args, response, lambda: rows_table(response.teams, _COLUMNS, total=response.total))
    return EXIT_OK


async def _get(args: argparse.Namespace, services: Services) -> int:
    principal = operator(args)
    team = TeamResponse.of(await services.teams.get_team(principal, args.team))
    members = MemberListResponse.of(await services.teams.list_members(principal, args.team))

    def table() -> str:
        listed = rows_table(members.members, ("email", "display_name", "is_active"))
        return f"{fields_table(team).render()}\n\nmembers:\n{listed}"

    emit(args, TeamWithMembers(team, members), table)
    return EXIT_OK


async def _create(args: argparse.Namespace, services: Services) -> int:
    command = CreateTeam(
        name=args.name,
        description=args.description,
        required_labels=args.required_labels,
        optional_label_patterns=tuple(args.patterns),
        allowed_runner_group_ids=args.runner_groups,
        default_runner_group_id=args.default_runner_group,
        max_runners=args.max_runners,
    )
    _show(args, TeamResponse.of(await services.teams.create_team(operator(args), command)))
    return EXIT_OK


async def _update(args: argparse.Namespace, services: Services) -> int:
    if args.max_runners is not None and args.no_max_runners:
        raise UsageError("give --max-runners N or --no-max-runners, not both")
    if args.patterns and args.no_patterns:
        raise UsageError("give --patterns or --no-patterns, not both")
    patterns = () if args.no_patterns else tuple(args.patterns) or None
    command = UpdateTeam(
        description=patch_of(args.description),
        required_labels=patch_of(args.required_labels),
        optional_label_patterns=patch_of(patterns),
        allowed_runner_group_ids=patch_of(args.runner_groups),
        default_runner_group_id=patch_of(args.default_runner_group),
        max_runners=None if args.no_max_runners else patch_of(args.max_runners),
    )
    team = await services.teams.update_team(operator(args), args.team, command)
    _show(args, TeamResponse.of(team))
    return EXIT_OK


async def _deactivate(args: argparse.Namespace, services: Services) -> int:
    team = await services.teams.deactivate_team(operator(args), args.team, args.reason)
    _show(args, TeamResponse.of(team))
    return EXIT_OK


async def _reactivate(args: argparse.Namespace, services: Services) -> int:
    _show(args, TeamResponse.of(await services.teams.reactivate_team(operator(args), args.team)))
    return EXIT_OK


async def _membership(args: argparse.Namespace, services: Services, *, add: bool) -> int:
    principal = operator(args)
    await services.teams.get_team(principal, args.team)
    user = await user_by_ref(services, principal, args.user)
    change_of = services.teams.add_member if add else services.teams.remove_member
    response = MembershipResponse.of(await change_of(principal, args.team, user.id))
    verb = ("added to" if add else "removed from") if response.changed else "unchanged in"
    emit(args, response, lambda: f"{response.member.email} {verb} team {response.team}")
    return EXIT_OK


async def _add_member(args: argparse.Namespace, services: Services) -> int:
    return await _membership(args, services, add=True)


async def _remove_member(args: argparse.Namespace, services: Services) -> int:
    return await _membership(args, services, add=False)


def _policy_options(parser: argparse.ArgumentParser, *, creating: bool) -> None:
    parser.add_argument("--description", default="" if creating else None, help="what it is")
    parser.add_argument(
        "--required-labels",
        type=comma_list,
        default=() if creating else None,
        help="labels every runner gets, comma-separated (not GitHub's own, such as linux)",
    )
    parser.add_argument(
        "--patterns",
        action="append",
        default=[],
        metavar="REGEX",
        help="a pattern optional labels must match in full; repeat the option for several "
        "(patterns are not split on commas)",
    )
    parser.add_argument(
        "--runner-groups",
        type=int_list,
        default=(DEFAULT_RUNNER_GROUP_ID,) if creating else None,
        help="allowed runner group ids, comma-separated"
        + (f" (default: {DEFAULT_RUNNER_GROUP_ID})" if creating else ""),
    )
    parser.add_argument("--default-runner-group", type=int, help="default runner group id")
    parser.add_argument("--max-runners", type=int, help="quota of live runners (none: no limit)")


def _members_parsers(teams: Any) -> None:
    for name, action, verb, example in (
        ("add-member", _add_member, "add a user to", ("gharts admin teams add-member ml "
         "admin@gharts.dev")),
        ("remove-member", _remove_member, "remove a user from", ("gharts admin teams "
         "remove-member ml admin@gharts.dev")),
    ):  # fmt: skip
        parser = add_command(
            teams, name, help=f"{verb} a team", writes=True, action=action,
            description=f"{verb.capitalize()} a team; doing it twice changes nothing.",
            examples=[example],
        )  # fmt: skip
        parser.add_argument("team", help="team name")
        parser.add_argument("user", metavar="USER", help="the user's email or id")


def add_teams_parser(admin: Any) -> None:
    """Register ``gharts admin teams`` and its subcommands."""
    teams = admin.add_parser("teams", help="teams, their policies and members").add_subparsers(
        dest="teams_command", required=True, metavar="SUBCOMMAND"
    )
    listing = add_command(
        teams, "list", help="list teams", description="List teams, ordered by name.",
        examples=["gharts admin teams list --active"], action=_list,
    )  # fmt: skip
    switch(listing, "--active", "only active teams (--no-active: only deactivated ones)")
    listing.add_argument(
        "--limit", type=page_size, default=100, help="page size, 1-500 (default 100)"
    )
    listing.add_argument("--offset", type=non_negative, default=0, help="teams to skip (default 0)")

    show = add_command(
        teams, "show", help="show a team and its members", action=_get,
        description="Show a team's policy, runner groups and quota, and its members.",
        examples=["gharts admin teams show demo"],
    )  # fmt: skip
    show.add_argument("team", help="team name")

    create = add_command(
        teams, "create", help="create a team with its label policy", writes=True, action=_create,
        description="Create a team. Required labels are added to every runner of the team; "
        "other labels must match one of the patterns.",
        examples=[("gharts admin teams create ml --required-labels ml,team-ml --patterns 'gpu-.*' "
                  "--max-runners 10 --runner-groups 1")],
    )  # fmt: skip
    create.add_argument("name", help="team name: lower case letters, digits and '-'")
    _policy_options(create, creating=True)

    update = add_command(
        teams, "update", help="change a team's policy, groups or quota", writes=True,
        description="Change the given fields of a team; the others keep their value. A policy "
        "change applies to new runners; the sync worker judges the existing ones.",
        examples=[("gharts admin teams update ml --max-runners 20 --patterns 'gpu-.*' "
                  "--patterns 'size-(s|m|l)'")],
        action=_update,
    )  # fmt: skip
    update.add_argument("team", help="team name")
    _policy_options(update, creating=False)
    update.add_argument("--no-patterns", action="store_true", help="remove every pattern")
    update.add_argument("--no-max-runners", action="store_true", help="remove the quota")

    deactivate = add_command(
        teams, "deactivate", help="stop a team from provisioning", writes=True,
        description="Deactivate a team: no new runners; its runners, members and clients stay.",
        examples=["gharts admin teams deactivate ml --reason 'moved to ml-infra'"],
        action=_deactivate,
    )  # fmt: skip
    deactivate.add_argument("team", help="team name")
    deactivate.add_argument("--reason", required=True, help="why (recorded in the audit log)")

    reactivate = add_command(
        teams, "reactivate", help="let a deactivated team provision again", writes=True,
        description="Reactivate a deactivated team.",
        examples=["gharts admin teams reactivate ml"], action=_reactivate,
    )  # fmt: skip
    reactivate.add_argument("team", help="team name")
    _members_parsers(teams)
