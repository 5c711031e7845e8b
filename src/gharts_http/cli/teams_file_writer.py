"""Writing a teams file (``gharts export``): the format :mod:`gharts_http.cli.teams_file` reads.

tomli-w is the writing half of the TOML library the standard library's ``tomllib`` comes from: it
escapes strings and lays out arrays of tables correctly, which a hand-written writer would have
to be tested for. A quota of ``None`` (no limit) and unmanaged members are left out, as TOML has
no null.
"""

from __future__ import annotations

from typing import Any

import tomli_w

from gharts_http.cli.teams_file import DeclaredClient, DeclaredTeam, TeamsFile

__all__ = ["dump_teams_file"]

_HEADER = (
    "# The teams of gharts, their members and machine clients (written by `gharts export`).\n"
    "# Review a change with `gharts apply -f FILE --plan`, make it with `gharts apply -f FILE`.\n"
)


def _client_table(client: DeclaredClient) -> dict[str, Any]:
    return {
        "issuer": client.issuer,
        "subject": client.subject,
        "description": client.description,
        "can_use_jit": client.can_use_jit,
        "can_use_registration_token": client.can_use_registration_token,
    }


def _team_table(team: DeclaredTeam) -> dict[str, Any]:
    table: dict[str, Any] = {
        "description": team.description,
        "required_labels": list(team.required_labels),
        "optional_label_patterns": list(team.optional_label_patterns),
        "allowed_runner_group_ids": list(team.allowed_runner_group_ids),
        "default_runner_group_id": team.default_runner_group_id,
    }
    if team.max_runners is not None:
        table["max_runners"] = team.max_runners
    if team.members is not None:
        table["members"] = list(team.members)
    if team.clients:
        table["clients"] = [_client_table(client) for client in team.clients]
    return table


def dump_teams_file(teams: TeamsFile) -> str:
    """Return the TOML text of ``teams`` (what ``gharts export`` writes)."""
    body = tomli_w.dumps({"teams": {team.name: _team_table(team) for team in teams.teams}})
    return _HEADER + "\n" + body
