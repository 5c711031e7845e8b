r"""The admin team forms: what a browser sends, as the core's team commands, and back.

Every field of the policy editor is sent every time, so a save is an :class:`UpdateTeam` with
all fields given. Required labels are separated by commas, spaces or new lines; patterns by
new lines only (a pattern may hold a comma, as in ``\d{1,3}``). An empty quota means no limit,
an empty default group the first allowed one. A field that is not a number is a
``ValidationFailed`` naming it, as the API's schema check is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from gharts_core.errors import GhartsError, InvalidPolicy, ValidationFailed
from gharts_core.model import Team
from gharts_core.services.admin_teams import CreateTeam, UpdateTeam
from gharts_http.dashboard.controllers.provision import parse_labels
from gharts_http.dashboard.errors import details_of

POLICY_FIELDS = (
    "description",
    "required_labels",
    "optional_label_patterns",
    "allowed_runner_group_ids",
    "default_runner_group_id",
    "max_runners",
)
_GROUP_SEPARATORS = re.compile(r"[\s,]+")


def text(form: Mapping[str, Any], name: str) -> str:
    """Return a form field's text, stripped; a missing or non-text field is empty."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def checked(form: Mapping[str, Any], name: str) -> bool:
    """Return whether a checkbox was ticked."""
    return name in form and form.get(name) not in (None, "", "off")


def patterns(value: str) -> list[str]:
    """Return the patterns of the editor's text area: one a line, blank lines left out."""
    return [line.strip() for line in value.splitlines() if line.strip()]


def _number(errors: dict[str, str], name: str, value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        errors[name] = f"{name} must be a whole number, or empty."
        return None
    return int(value)


def _groups(errors: dict[str, str], value: str) -> list[int]:
    parts = [part for part in _GROUP_SEPARATORS.split(value) if part]
    if not all(part.isdigit() for part in parts):
        errors["allowed_runner_group_ids"] = (
            "allowed_runner_group_ids must be whole numbers separated by commas."
        )
        return []
    return [int(part) for part in parts]


def _settings(form: Mapping[str, Any]) -> tuple[list[int], int | None, int | None]:
    errors: dict[str, str] = {}
    groups = _groups(errors, text(form, "allowed_runner_group_ids"))
    default = _number(errors, "default_runner_group_id", text(form, "default_runner_group_id"))
    quota = _number(errors, "max_runners", text(form, "max_runners"))
    if errors:
        raise ValidationFailed(errors)
    return groups, default, quota


def update_command(form: Mapping[str, Any]) -> UpdateTeam:
    """Return the full update the policy editor asks for; ``ValidationFailed`` on bad numbers."""
    groups, default, quota = _settings(form)
    return UpdateTeam(
        description=text(form, "description"),
        required_labels=parse_labels(text(form, "required_labels")),
        optional_label_patterns=patterns(text(form, "optional_label_patterns")),
        allowed_runner_group_ids=groups,
        default_runner_group_id=default,
        max_runners=quota,
    )


def create_command(form: Mapping[str, Any]) -> CreateTeam:
    """Return the team the creation form asks for; no groups means GitHub's Default group."""
    groups, default, quota = _settings(form)
    command = CreateTeam(
        name=text(form, "name"),
        description=text(form, "description"),
        required_labels=parse_labels(text(form, "required_labels")),
        optional_label_patterns=patterns(text(form, "optional_label_patterns")),
        default_runner_group_id=default,
        max_runners=quota,
    )
    return attrs.evolve(command, allowed_runner_group_ids=groups) if groups else command


def form_of(team: Team) -> dict[str, str]:
    """Return the editor's fields filled with the team's current settings."""
    return {
        "description": team.description,
        "required_labels": ", ".join(team.policy.required_labels),
        "optional_label_patterns": "\n".join(team.policy.optional_label_patterns),
        "allowed_runner_group_ids": ", ".join(map(str, team.allowed_runner_group_ids)),
        "default_runner_group_id": str(team.default_runner_group_id),
        "max_runners": "" if team.max_runners is None else str(team.max_runners),
    }


def sent(form: Mapping[str, Any], names: tuple[str, ...] = POLICY_FIELDS) -> dict[str, str]:
    """Return the fields as the person typed them (kept when the form is shown again)."""
    return {name: text(form, name) for name in names}


def problem_lines(error: GhartsError) -> list[str]:
    """Return the lines listed under an error: each policy problem with its field and value."""
    if isinstance(error, InvalidPolicy):
        return [
            f"{p.field}{f' {p.value!r}' if p.value is not None else ''}: {p.message}"
            for p in error.problems
        ]
    return details_of(error)
