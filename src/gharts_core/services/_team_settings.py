"""Pure validation of a team's settings: name, label policy, runner groups, quota.

Every problem with the policy, the runner groups and the quota is collected into one
:class:`InvalidPolicy`, so an admin sees them all at once; a bad name is a :class:`ValidationFailed`
with ``field_errors``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from gharts_core.errors import InvalidPolicy, PolicyProblem, ValidationFailed
from gharts_core.model import TEAM_NAME_PATTERN
from gharts_core.policy import LabelPolicy

MIN_MAX_RUNNERS = 1
#: The largest quota a team may have (the column is a 32-bit integer on PostgreSQL).
MAX_MAX_RUNNERS = 2**31 - 1
#: GitHub's runner group ids are 64-bit integers.
MAX_RUNNER_GROUP_ID = 2**63 - 1


@attrs.frozen
class TeamSettings:
    """A team's validated, normalised policy, runner groups and quota."""

    policy: LabelPolicy
    allowed_runner_group_ids: tuple[int, ...]
    default_runner_group_id: int
    max_runners: int | None


def check_name(name: str) -> str:
    """Return the team name, or raise :class:`ValidationFailed` naming the rule it breaks."""
    if not TEAM_NAME_PATTERN.fullmatch(name):
        raise ValidationFailed(
            {
                "name": "name must be 2-50 lower-case letters, digits and dashes, "
                "starting and ending with a letter or digit."
            }
        )
    return name


def _group_problems(allowed: Sequence[int], default: int | None) -> list[PolicyProblem]:
    if not allowed:
        return [
            PolicyProblem(
                "allowed_runner_group_ids",
                None,
                "empty",
                "At least one runner group must be allowed.",
            )
        ]
    problems = [
        PolicyProblem(
            "allowed_runner_group_ids",
            str(group),
            "invalid_id",
            f"Runner group id {group} is not an integer from 1 to {MAX_RUNNER_GROUP_ID}.",
        )
        for group in allowed
        if not 1 <= group <= MAX_RUNNER_GROUP_ID
    ]
    if default is not None and default not in allowed:
        problems.append(
            PolicyProblem(
                "default_runner_group_id",
                str(default),
                "not_allowed",
                f"The default runner group {default} is not one of the allowed groups "
                f"({', '.join(map(str, allowed))}).",
            )
        )
    return problems


def _quota_problems(max_runners: int | None) -> list[PolicyProblem]:
    if max_runners is None or MIN_MAX_RUNNERS <= max_runners <= MAX_MAX_RUNNERS:
        return []
    return [
        PolicyProblem(
            "max_runners",
            str(max_runners),
            "out_of_range",
            f"max_runners must be from {MIN_MAX_RUNNERS} to {MAX_MAX_RUNNERS}, or null for no "
            "limit (deactivate the team to stop provisioning).",
        )
    ]


def build_settings(
    *,
    required_labels: Iterable[str],
    optional_label_patterns: Iterable[str],
    allowed_runner_group_ids: Iterable[int],
    default_runner_group_id: int | None,
    max_runners: int | None,
) -> TeamSettings:
    """Validate and normalise team settings, or raise one :class:`InvalidPolicy` with every problem.

    Duplicate group ids collapse (first occurrence kept); a ``None`` default means the first
    allowed group.
    """
    problems: list[PolicyProblem] = []
    policy: LabelPolicy | None = None
    try:
        policy = LabelPolicy(
            required_labels=required_labels,
            optional_label_patterns=optional_label_patterns,
        )
    except InvalidPolicy as error:
        problems.extend(error.problems)
    allowed = tuple(dict.fromkeys(allowed_runner_group_ids))
    problems += _group_problems(allowed, default_runner_group_id)
    problems += _quota_problems(max_runners)
    if problems or policy is None:
        raise InvalidPolicy(problems)
    default = allowed[0] if default_runner_group_id is None else default_runner_group_id
    return TeamSettings(policy, allowed, default, max_runners)
