"""The teams file: an organisation's teams, members and machine clients, in TOML.

::

    [teams.ml]
    description = "Machine learning"
    required_labels = ["ml"]
    optional_label_patterns = ["gpu-.*", "size-(s|m|l)"]
    allowed_runner_group_ids = [1, 7]    # default [1]
    default_runner_group_id = 7          # default: the first allowed group
    max_runners = 20                     # leave out for no limit
    members = ["ada@example.com"]        # leave out to leave the members alone

    [[teams.ml.clients]]
    issuer = "https://token.actions.githubusercontent.com"
    subject = "repo:acme/ml:ref:refs/heads/main"
    can_use_registration_token = false   # can_use_jit = true and description = "" by default

:func:`read_teams_file` checks the whole file before anything is written and reports every
problem in one line: the file, the entry and the reason (a pattern RE2 refuses is named). The
values are normalised as the core stores them (labels in lower case and sorted, group ids once),
so that a file that matches the database plans no change. ``gharts export`` writes the same
format (:mod:`gharts_http.cli.teams_file_writer`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from gharts_core.errors import InvalidPolicy
from gharts_core.model import TEAM_NAME_PATTERN
from gharts_core.policy import LabelPolicy
from gharts_core.services._checks import MAX_DESCRIPTION_LENGTH
from gharts_core.services.admin_teams import DEFAULT_RUNNER_GROUP_ID

__all__ = [
    "DeclaredClient",
    "DeclaredTeam",
    "TeamsFile",
    "TeamsFileError",
    "parse_teams_file",
    "read_teams_file",
    "untrusted_issuers",
]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_TEAM_KEYS = {
    "description": str,
    "required_labels": list,
    "optional_label_patterns": list,
    "allowed_runner_group_ids": list,
    "default_runner_group_id": int,
    "max_runners": int,
    "members": list,
    "clients": list,
}
_CLIENT_KEYS = {
    "issuer": str,
    "subject": str,
    "description": str,
    "can_use_jit": bool,
    "can_use_registration_token": bool,
}


class TeamsFileError(Exception):
    """The file cannot be applied; ``problems`` has one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@attrs.frozen
class DeclaredClient:
    """A machine client as the file declares it."""

    issuer: str
    subject: str
    description: str = ""
    can_use_jit: bool = True
    can_use_registration_token: bool = False


@attrs.frozen
class DeclaredTeam:
    """A team as the file declares it, normalised; ``members`` ``None``: not managed."""

    name: str
    description: str
    required_labels: tuple[str, ...]
    optional_label_patterns: tuple[str, ...]
    allowed_runner_group_ids: tuple[int, ...]
    default_runner_group_id: int
    max_runners: int | None
    members: tuple[str, ...] | None
    clients: tuple[DeclaredClient, ...] = ()


@attrs.frozen
class TeamsFile:
    """Every team the file declares, by name."""

    teams: tuple[DeclaredTeam, ...]


def _typed(
    problems: list[str], where: str, table: Mapping[str, Any], keys: Mapping[str, type]
) -> bool:
    fine = True
    for key, value in table.items():
        expected = keys.get(key)
        if expected is None:
            problems.append(f"{where}: unknown key {key!r} (expected one of: {', '.join(keys)})")
        elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            problems.append(f"{where}.{key}: expected {expected.__name__}, not {value!r}")
            fine = False
    return fine


def _items(problems: list[str], where: str, values: list[Any], kind: type) -> list[Any]:
    bad = [value for value in values if not isinstance(value, kind) or isinstance(value, bool)]
    problems.extend(
        f"{where}: expected a list of {kind.__name__}, found {value!r}" for value in bad
    )
    return [value for value in values if value not in bad]


def _policy(problems: list[str], where: str, table: Mapping[str, Any]) -> LabelPolicy | None:
    required = _items(problems, f"{where}.required_labels", table.get("required_labels", []), str)
    patterns = _items(
        problems, f"{where}.optional_label_patterns", table.get("optional_label_patterns", []), str
    )
    try:
        return LabelPolicy(required_labels=required, optional_label_patterns=patterns)
    except InvalidPolicy as error:
        for problem in error.problems:
            value = "" if problem.value is None else f" {problem.value!r}"
            problems.append(f"{where}.{problem.field}{value}: {problem.message}")
    return None


def _groups(
    problems: list[str], where: str, table: Mapping[str, Any]
) -> tuple[tuple[int, ...], int]:
    given = table.get("allowed_runner_group_ids", [DEFAULT_RUNNER_GROUP_ID])
    groups = tuple(dict.fromkeys(_items(problems, f"{where}.allowed_runner_group_ids", given, int)))
    if not groups:
        problems.append(f"{where}.allowed_runner_group_ids: at least one runner group is needed")
        return (), 0
    problems.extend(
        f"{where}.allowed_runner_group_ids: {group} is not a positive id"
        for group in groups
        if group < 1
    )
    default = table.get("default_runner_group_id", groups[0])
    if default not in groups:
        problems.append(
            f"{where}.default_runner_group_id: {default} is not one of the allowed groups "
            f"({', '.join(map(str, groups))})"
        )
    return groups, default


def _members(problems: list[str], where: str, table: Mapping[str, Any]) -> tuple[str, ...] | None:
    if "members" not in table:
        return None
    emails = [
        e.strip().lower() for e in _items(problems, f"{where}.members", table["members"], str)
    ]
    problems.extend(
        f"{where}.members: {email!r} does not look like name@domain"
        for email in emails
        if not _EMAIL.fullmatch(email)
    )
    return tuple(sorted(set(emails)))


def _clients(problems: list[str], where: str, values: list[Any]) -> tuple[DeclaredClient, ...]:
    clients = []
    for index, entry in enumerate(values):
        at = f"{where}.clients[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{at}: expected a table with issuer and subject, not {entry!r}")
            continue
        if not _typed(problems, at, entry, _CLIENT_KEYS):
            continue
        missing = [key for key in ("issuer", "subject") if not str(entry.get(key, "")).strip()]
        if missing:
            problems.append(f"{at}: {' and '.join(missing)} must be given")
            continue
        _description(problems, at, entry)
        clients.append(
            DeclaredClient(
                issuer=entry["issuer"].strip(),
                subject=entry["subject"].strip(),
                description=entry.get("description", "").strip(),
                can_use_jit=entry.get("can_use_jit", True),
                can_use_registration_token=entry.get("can_use_registration_token", False),
            )
        )
    return tuple(clients)


def _description(problems: list[str], where: str, table: Mapping[str, Any]) -> None:
    """Check the core's description limit here, so that a file it would refuse changes nothing."""
    if len(str(table.get("description", "")).strip()) > MAX_DESCRIPTION_LENGTH:
        problems.append(f"{where}.description: at most {MAX_DESCRIPTION_LENGTH} characters")


def untrusted_issuers(declared: TeamsFile, trusted: Iterable[str]) -> list[str]:
    """One problem per declared client whose issuer is not one of ``trusted`` (byte for byte)."""
    allowed = set(trusted)
    return [
        f"teams.{team.name}.clients[{index}]: issuer {client.issuer!r} is not a trusted issuer "
        f"(configured: {', '.join(sorted(allowed)) or 'none'})"
        for team in declared.teams
        for index, client in enumerate(team.clients)
        if client.issuer not in allowed
    ]


def _team(problems: list[str], name: str, table: Any) -> DeclaredTeam | None:
    where = f"teams.{name}"
    if not TEAM_NAME_PATTERN.fullmatch(name):
        problems.append(f"{where}: a team name is 2-50 lower-case letters, digits and dashes")
    if not isinstance(table, dict):
        problems.append(f"{where}: expected a table, not {table!r}")
        return None
    if not _typed(problems, where, table, _TEAM_KEYS):
        return None
    before = len(problems)
    policy = _policy(problems, where, table)
    groups, default = _groups(problems, where, table)
    max_runners = table.get("max_runners")
    if max_runners is not None and max_runners < 1:
        problems.append(f"{where}.max_runners: at least 1, or leave it out for no limit")
    members = _members(problems, where, table)
    _description(problems, where, table)
    clients = _clients(problems, where, table.get("clients", []))
    if len(problems) > before or policy is None:
        return None
    return DeclaredTeam(
        name=name,
        description=table.get("description", "").strip(),
        required_labels=policy.required_labels,
        optional_label_patterns=policy.optional_label_patterns,
        allowed_runner_group_ids=groups,
        default_runner_group_id=default,
        max_runners=max_runners,
        members=members,
        clients=clients,
    )


def _unique_clients(problems: list[str], teams: list[DeclaredTeam]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for team in teams:
        for client in team.clients:
            identity = (client.issuer, client.subject)
            if identity in seen:
                problems.append(
                    f"teams.{team.name}.clients: issuer {client.issuer!r} and subject "
                    f"{client.subject!r} are declared already (in teams.{seen[identity]})"
                )
            seen[identity] = team.name


def parse_teams_file(text: str) -> TeamsFile:
    """Return the declared teams of a teams file's text, or raise :class:`TeamsFileError`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise TeamsFileError([f"not valid TOML: {error}"]) from error
    problems: list[str] = []
    unknown = sorted(set(data) - {"teams"})
    if unknown:
        problems.append(f"unknown top-level keys {', '.join(unknown)} (only [teams.NAME] tables)")
    tables = data.get("teams", {})
    if not isinstance(tables, dict):
        raise TeamsFileError([*problems, "teams: expected [teams.NAME] tables"])
    teams = [team for name, table in tables.items() if (team := _team(problems, name, table))]
    _unique_clients(problems, teams)
    if problems:
        raise TeamsFileError(problems)
    return TeamsFile(tuple(sorted(teams, key=lambda team: team.name)))


def read_teams_file(path: str) -> TeamsFile:
    """Read and check the file at ``path``; every problem is prefixed with the path."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise TeamsFileError(
            [f"{path}: cannot read the file: {error.strerror or error}"]
        ) from error
    try:
        return parse_teams_file(text)
    except TeamsFileError as error:
        raise TeamsFileError([f"{path}: {problem}" for problem in error.problems]) from error
