"""What a provisioning request must look like: runner names, work folders, team selection.

Shared by provisioning and the policy dry run, so both pick the team the same way.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from collections.abc import Iterable

from gharts_core import authz
from gharts_core.model import Principal, Team
from gharts_core.ports.storage import UnitOfWork
from gharts_core.services._lookups import team_by_id, team_by_name

MAX_RUNNER_NAME_LENGTH = 64
SUFFIX_LENGTH = 8
MAX_PREFIX_LENGTH = MAX_RUNNER_NAME_LENGTH - SUFFIX_LENGTH - 1
MAX_WORK_FOLDER_LENGTH = 255

# Letters, digits, '.', '_' and '-': safe in a shell command, a Kubernetes pod name source, and
# GitHub's runner list alike.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*", re.ASCII)
_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits
_DRIVE = re.compile(r"[A-Za-z]:")


def runner_name_problem(name: str) -> str | None:
    """Return why ``name`` is not a valid runner name, or ``None`` when it is."""
    if not name or len(name) > MAX_RUNNER_NAME_LENGTH:
        return f"must be 1-{MAX_RUNNER_NAME_LENGTH} characters"
    if not _NAME.fullmatch(name):
        return "must use letters, digits, '.', '_' or '-' and start with a letter or digit"
    return None


def prefix_problem(prefix: str) -> str | None:
    """Return why ``prefix`` cannot start a generated runner name, or ``None`` when it can."""
    if not prefix or len(prefix) > MAX_PREFIX_LENGTH:
        return f"must be 1-{MAX_PREFIX_LENGTH} characters (a random suffix is appended)"
    if not _NAME.fullmatch(prefix):
        return "must use letters, digits, '.', '_' or '-' and start with a letter or digit"
    return None


def work_folder_problem(folder: str) -> str | None:
    """Return why ``folder`` is not a safe relative work folder, or ``None`` when it is."""
    if not folder or len(folder) > MAX_WORK_FOLDER_LENGTH:
        return f"must be 1-{MAX_WORK_FOLDER_LENGTH} characters"
    if any(ord(char) < 32 or ord(char) == 127 for char in folder):
        return "must not contain control characters"
    if folder[0] in "/\\~" or _DRIVE.match(folder):
        return "must be a relative path"
    if ".." in re.split(r"[/\\]", folder):
        return "must not contain '..'"
    return None


def generated_name(prefix: str) -> str:
    """Return ``prefix`` with a random lower-case alphanumeric suffix appended."""
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(SUFFIX_LENGTH))
    separator = "" if prefix[-1] in "-_." else "-"
    return f"{prefix}{separator}{suffix}"


def name_field_errors(runner_name: str | None, runner_name_prefix: str | None) -> dict[str, str]:
    """Return field errors for the exactly-one-of ``runner_name`` / ``runner_name_prefix`` rule."""
    if (runner_name is None) == (runner_name_prefix is None):
        return {"runner_name": "give exactly one of runner_name and runner_name_prefix"}
    if runner_name is not None and (problem := runner_name_problem(runner_name)):
        return {"runner_name": problem}
    if runner_name_prefix is not None and (problem := prefix_problem(runner_name_prefix)):
        return {"runner_name_prefix": problem}
    return {}


def team_field_errors(team_name: str | None, team_id: uuid.UUID | None) -> dict[str, str]:
    """Return field errors when both ``team_name`` and ``team_id`` are given."""
    if team_name is not None and team_id is not None:
        return {"team_name": "give at most one of team_name and team_id"}
    return {}


async def choose_team(
    uow: UnitOfWork,
    principal: Principal,
    *,
    team_name: str | None,
    team_id: uuid.UUID | None,
    for_update: bool = False,
) -> Team:
    """Load the team the caller named (or their teams) and let the authz rules pick one.

    ``for_update``: a runner is reserved next in this unit of work, so the teams are read
    locked (see :meth:`~gharts_core.ports.storage.TeamRepository.get`). Raise ``TeamNotFound``
    for a name or id that matches nothing, then whatever
    :func:`gharts_core.authz.select_team` raises.
    """
    key: str | None = None
    requested: Team | None = None
    if team_name is not None:
        key, requested = team_name, await team_by_name(uow, team_name, for_update=for_update)
    elif team_id is not None:
        key, requested = str(team_id), await team_by_id(uow, team_id, for_update=for_update)
    member_teams = (
        await _load_teams(uow, principal.team_ids, for_update=for_update)
        if requested is None
        else []
    )
    return authz.select_team(
        principal, requested=requested, requested_key=key, member_teams=member_teams
    )


async def _load_teams(
    uow: UnitOfWork, team_ids: Iterable[uuid.UUID], *, for_update: bool
) -> list[Team]:
    # In id order, so that two callers locking the same teams never wait on each other in turn.
    teams = [await uow.teams.get(team_id, for_update=for_update) for team_id in sorted(team_ids)]
    return sorted((team for team in teams if team is not None), key=lambda team: team.name)
