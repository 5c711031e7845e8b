"""What applying a teams file would change: the current state, the plan, and each step.

:func:`read_state` reads the teams, users, members and clients through the admin services;
:func:`plan_changes` compares them with the file and returns the changes in the order they are
made (users, teams, members, clients, then what ``--prune`` removes). Each :class:`Change` knows
how to make itself through the admin services, so an applied change has the API's checks and
audit rows, and a change that is not needed is never called (applying twice writes nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from gharts_core.model import Principal, Team, User
from gharts_core.services.admin_clients import (
    ClientDetails,
    ClientQuery,
    CreateClient,
    UpdateClient,
)
from gharts_core.services.admin_teams import CreateTeam, UpdateTeam
from gharts_core.services.admin_users import CreateUser, UserQuery
from gharts_http.bootstrap import Services
from gharts_http.cli.lookups import all_pages
from gharts_http.cli.plan_steps import (
    Step,
    create_client_step,
    create_team_step,
    create_user_step,
    deactivate_step,
    disable_step,
    enable_step,
    member_step,
    reactivate_step,
    update_client_step,
    update_team_step,
)
from gharts_http.cli.teams_file import DeclaredClient, DeclaredTeam, TeamsFile

__all__ = ["Change", "State", "exported", "plan_changes", "read_state"]

_TEAM_FIELDS = (
    "description",
    "required_labels",
    "optional_label_patterns",
    "allowed_runner_group_ids",
    "default_runner_group_id",
    "max_runners",
)
_CLIENT_FIELDS = ("team", "description", "can_use_jit", "can_use_registration_token")


@attrs.frozen
class Change:
    """One change: what it is (``action``, ``kind``, ``target``), the fields, how to make it."""

    action: str
    kind: str
    target: str
    before: Mapping[str, object] | None
    after: Mapping[str, object] | None
    step: Step = attrs.field(eq=False, repr=False)

    def as_json(self) -> dict[str, object]:
        """Return the change without its step, for ``--output json``."""
        return {
            "action": self.action,
            "kind": self.kind,
            "target": self.target,
            "before": self.before,
            "after": self.after,
        }


@attrs.frozen
class State:
    """Everything a plan compares: teams by name, users by email, members, clients."""

    teams: Mapping[str, Team]
    users: Mapping[str, User]
    members: Mapping[str, frozenset[str]]
    clients: tuple[ClientDetails, ...]


async def read_state(services: Services, principal: Principal) -> State:
    """Read the teams, users, memberships and clients the plan needs."""
    teams = {
        team.name: team
        async for team in all_pages(lambda p: services.teams.list_teams(principal, None, p))
    }
    users = {
        details.user.email: details.user
        async for details in all_pages(
            lambda p: services.users.list_users(principal, UserQuery(), p)
        )
    }
    members = {
        name: frozenset(user.email for user in await services.teams.list_members(principal, name))
        for name in teams
    }
    clients = tuple(
        [
            details
            async for details in all_pages(
                lambda p: services.clients.list_clients(principal, ClientQuery(), p)
            )
        ]
    )
    return State(teams, users, members, clients)


def _team_fields(team: Team | DeclaredTeam) -> dict[str, Any]:
    if isinstance(team, DeclaredTeam):
        return {name: getattr(team, name) for name in _TEAM_FIELDS}
    return {
        "description": team.description,
        "required_labels": team.policy.required_labels,
        "optional_label_patterns": team.policy.optional_label_patterns,
        "allowed_runner_group_ids": team.allowed_runner_group_ids,
        "default_runner_group_id": team.default_runner_group_id,
        "max_runners": team.max_runners,
    }


def _client_fields(team: str, client: ClientDetails | DeclaredClient) -> dict[str, Any]:
    if isinstance(client, DeclaredClient):
        caps = (client.can_use_jit, client.can_use_registration_token)
        description = client.description
    else:
        capabilities = client.client.capabilities
        caps = (capabilities.can_use_jit, capabilities.can_use_registration_token)
        description = client.client.description
        team = client.team_name
    return dict(zip(_CLIENT_FIELDS, (team, description, *caps), strict=True))


def _differences(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    changed = [name for name in after if before[name] != after[name]]
    return {name: before[name] for name in changed}, {name: after[name] for name in changed}


def _team_changes(state: State, team: DeclaredTeam) -> list[Change]:
    fields = _team_fields(team)
    current = state.teams.get(team.name)
    if current is None:
        command = CreateTeam(name=team.name, **fields)
        return [Change("create", "team", team.name, None, fields, create_team_step(command))]
    changes = []
    before, after = _differences(_team_fields(current), fields)
    if after:
        update = UpdateTeam(**after)
        changes.append(
            Change("update", "team", team.name, before, after, update_team_step(team.name, update))
        )
    if not current.is_active:
        changes.append(
            Change("reactivate", "team", team.name, None, None, reactivate_step(team.name))
        )
    return changes


def _membership(team: str, email: str, *, add: bool) -> Change:
    action = "add" if add else "remove"
    return Change(
        action, "member", f"{team} {email}", None, None, member_step(team, email, add=add)
    )


def _member_changes(state: State, team: DeclaredTeam, users: dict[str, Change]) -> list[Change]:
    if team.members is None:
        return []
    current = state.members.get(team.name, frozenset())
    added = [email for email in team.members if email not in current]
    for email in added:
        if email not in state.users and email not in users:
            command = CreateUser(email=email, display_name=email.partition("@")[0])
            users[email] = Change(
                "create", "user", email, None, {"email": email}, create_user_step(command)
            )
    removed = sorted(current - set(team.members))
    return [_membership(team.name, email, add=True) for email in added] + [
        _membership(team.name, email, add=False) for email in removed
    ]


def _client_changes(state: State, team: DeclaredTeam, client: DeclaredClient) -> list[Change]:
    target = f"{client.subject} ({client.issuer})"
    same = [
        details
        for details in state.clients
        if (details.client.issuer, details.client.subject) == (client.issuer, client.subject)
    ]
    active = next((details for details in same if details.client.is_active), None)
    chosen = active or max(same, key=lambda details: details.client.updated_at, default=None)
    fields = _client_fields(team.name, client)
    if chosen is None:
        command = CreateClient(issuer=client.issuer, subject=client.subject, **fields)
        return [Change("create", "client", target, None, fields, create_client_step(command))]
    changes = []
    client_id = chosen.client.id
    if active is None:
        changes.append(Change("enable", "client", target, None, None, enable_step(client_id)))
    before, after = _differences(_client_fields(team.name, chosen), fields)
    if after:
        update = UpdateClient(**after)
        changes.append(
            Change("update", "client", target, before, after, update_client_step(client_id, update))
        )
    return changes


def _pruned(state: State, declared: TeamsFile, reason: str) -> list[Change]:
    names = {team.name for team in declared.teams}
    identities = {(c.issuer, c.subject) for team in declared.teams for c in team.clients}
    changes = [
        Change("deactivate", "team", name, None, None, deactivate_step(name, reason))
        for name, team in sorted(state.teams.items())
        if team.is_active and name not in names
    ]
    changes += [
        Change(
            "disable",
            "client",
            f"{d.client.subject} ({d.client.issuer})",
            None,
            None,
            disable_step(d.client.id, reason),
        )
        for d in state.clients
        if d.client.is_active and (d.client.issuer, d.client.subject) not in identities
    ]
    return changes


def plan_changes(state: State, declared: TeamsFile, *, prune: bool, reason: str) -> list[Change]:
    """Return what makes the database match ``declared``, in the order to make it."""
    users: dict[str, Change] = {}
    teams: list[Change] = []
    members: list[Change] = []
    clients: list[Change] = []
    for team in declared.teams:
        teams += _team_changes(state, team)
        members += _member_changes(state, team, users)
        for client in team.clients:
            clients += _client_changes(state, team, client)
    pruned = _pruned(state, declared, reason) if prune else []
    return [*users.values(), *teams, *members, *clients, *pruned]


def exported(state: State) -> TeamsFile:
    """Return the active teams, their members and their enabled clients as a teams file."""
    teams = []
    for name, team in sorted(state.teams.items()):
        if not team.is_active:
            continue
        clients = sorted(
            (
                DeclaredClient(
                    issuer=d.client.issuer,
                    subject=d.client.subject,
                    description=d.client.description,
                    can_use_jit=d.client.capabilities.can_use_jit,
                    can_use_registration_token=d.client.capabilities.can_use_registration_token,
                )
                for d in state.clients
                if d.client.is_active and d.team_name == name
            ),
            key=lambda client: (client.issuer, client.subject),
        )
        teams.append(
            DeclaredTeam(
                name=name,
                **_team_fields(team),
                members=tuple(sorted(state.members.get(name, ()))),
                clients=tuple(clients),
            )
        )
    return TeamsFile(tuple(teams))
