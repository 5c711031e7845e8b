"""Bodies of the team views members read (``/api/v1/teams``)."""

from __future__ import annotations

import uuid
from datetime import datetime

import attrs

from gharts_core.model import Team
from gharts_core.ports.storage import PageResult
from gharts_http.api.schemas.common import deactivation_fields


@attrs.frozen(kw_only=True)
class TeamResponse:
    """One team: its label policy, runner groups, quota and whether it is active."""

    id: uuid.UUID
    name: str
    description: str
    required_labels: list[str]
    optional_label_patterns: list[str]
    allowed_runner_group_ids: list[int]
    default_runner_group_id: int
    max_runners: int | None
    is_active: bool
    deactivated_at: datetime | None
    deactivated_by: str | None
    deactivation_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, team: Team) -> TeamResponse:
        """Build the response from a team."""
        return cls(
            id=team.id,
            name=team.name,
            description=team.description,
            required_labels=list(team.policy.required_labels),
            optional_label_patterns=list(team.policy.optional_label_patterns),
            allowed_runner_group_ids=list(team.allowed_runner_group_ids),
            default_runner_group_id=team.default_runner_group_id,
            max_runners=team.max_runners,
            is_active=team.is_active,
            **deactivation_fields(team.deactivation),
            created_at=team.created_at,
            updated_at=team.updated_at,
        )


@attrs.frozen(kw_only=True)
class TeamListResponse:
    """One page of teams, by name, and how many the caller may read in all."""

    teams: list[TeamResponse]
    total: int

    @classmethod
    def of(cls, page: PageResult[Team]) -> TeamListResponse:
        """Build the response from one page of teams."""
        return cls(teams=[TeamResponse.of(team) for team in page.items], total=page.total)
