"""The JSON forms of users, teams and clients that audit rows record before and after a change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gharts_core.model import MachineClient, Team, User


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Return the sorted keys whose values differ between two snapshots."""
    return sorted(key for key in after if before.get(key) != after[key])


def user_snapshot(user: User) -> dict[str, Any]:
    """Return the JSON form of a user as recorded in audit rows."""
    return {
        "email": user.email,
        "display_name": user.display_name,
        "is_admin": user.is_admin,
        "is_active": user.is_active,
        "can_use_jit": user.capabilities.can_use_jit,
        "can_use_registration_token": user.capabilities.can_use_registration_token,
    }


def team_snapshot(team: Team) -> dict[str, Any]:
    """Return the JSON form of a team and its policy as recorded in audit rows."""
    return {
        "name": team.name,
        "description": team.description,
        "required_labels": list(team.policy.required_labels),
        "optional_label_patterns": list(team.policy.optional_label_patterns),
        "allowed_runner_group_ids": list(team.allowed_runner_group_ids),
        "default_runner_group_id": team.default_runner_group_id,
        "max_runners": team.max_runners,
        "is_active": team.is_active,
    }


def client_snapshot(client: MachineClient, team_name: str) -> dict[str, Any]:
    """Return the JSON form of a machine client as recorded in audit rows."""
    return {
        "issuer": client.issuer,
        "subject": client.subject,
        "team_id": str(client.team_id),
        "team_name": team_name,
        "description": client.description,
        "can_use_jit": client.capabilities.can_use_jit,
        "can_use_registration_token": client.capabilities.can_use_registration_token,
        "is_active": client.is_active,
    }
