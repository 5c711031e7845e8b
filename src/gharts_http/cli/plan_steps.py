"""The steps of a plan: each change made through the admin services, as the operator.

A step is ``step(services, principal)``; :mod:`gharts_http.cli.plan` builds one per change, so a
change that is not needed is never called.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from gharts_core.model import Principal
from gharts_core.services.admin_clients import CreateClient, UpdateClient
from gharts_core.services.admin_teams import CreateTeam, UpdateTeam
from gharts_core.services.admin_users import CreateUser
from gharts_http.bootstrap import Services
from gharts_http.cli.lookups import user_by_ref

#: Makes one change: ``step(services, principal)``.
Step = Callable[[Services, Principal], Awaitable[object]]


def create_team_step(command: CreateTeam) -> Step:
    """Return the step that creates the team."""
    return lambda services, principal: services.teams.create_team(principal, command)


def update_team_step(name: str, command: UpdateTeam) -> Step:
    """Return the step that changes the team's fields that differ."""
    return lambda services, principal: services.teams.update_team(principal, name, command)


def reactivate_step(name: str) -> Step:
    """Return the step that reactivates the team."""
    return lambda services, principal: services.teams.reactivate_team(principal, name)


def deactivate_step(name: str, reason: str) -> Step:
    """Return the step that deactivates the team, giving ``reason``."""
    return lambda services, principal: services.teams.deactivate_team(principal, name, reason)


def create_user_step(command: CreateUser) -> Step:
    """Return the step that creates the user."""
    return lambda services, principal: services.users.create_user(principal, command)


def member_step(team: str, email: str, *, add: bool) -> Step:
    """Return the step that adds the user with this email to the team, or removes it."""

    async def step(services: Services, principal: Principal) -> object:
        user = await user_by_ref(services, principal, email)
        change = services.teams.add_member if add else services.teams.remove_member
        return await change(principal, team, user.id)

    return step


def create_client_step(command: CreateClient) -> Step:
    """Return the step that registers the client."""
    return lambda services, principal: services.clients.create_client(principal, command)


def update_client_step(client_id: uuid.UUID, command: UpdateClient) -> Step:
    """Return the step that changes the client's fields that differ."""
    return lambda services, principal: services.clients.update_client(principal, client_id, command)


def enable_step(client_id: uuid.UUID) -> Step:
    """Return the step that enables the client."""
    return lambda services, principal: services.clients.enable_client(principal, client_id)


def disable_step(client_id: uuid.UUID, reason: str) -> Step:
    """Return the step that disables the client, giving ``reason``."""
    return lambda services, principal: services.clients.disable_client(principal, client_id, reason)
