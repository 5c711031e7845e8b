"""Bodies of the audit, security event and statistics endpoints (admins and team members)."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from gharts_core.model import (
    Actor,
    AuditEvent,
    AuditOutcome,
    RunnerStatus,
    SecurityEvent,
    SecurityEventType,
    Severity,
)
from gharts_core.ports.storage import PageResult
from gharts_core.services.admin_audit import Stats


class ExportFormat(enum.StrEnum):
    """The file formats ``GET /api/v1/admin/audit/export`` writes."""

    JSONL = "jsonl"
    CSV = "csv"


@attrs.frozen(kw_only=True)
class ActorResponse:
    """Who did something: a user, a machine client or the system."""

    kind: str
    id: uuid.UUID | None
    name: str

    @classmethod
    def of(cls, actor: Actor) -> ActorResponse:
        """Build the response from an actor."""
        return cls(kind=str(actor.kind), id=actor.id, name=actor.name)


@attrs.frozen(kw_only=True)
class AuditEventResponse:
    """One audit row; ``details`` depends on the action."""

    id: uuid.UUID
    at: datetime
    actor: ActorResponse
    action: str
    outcome: AuditOutcome
    target_type: str
    target_id: str | None
    team_id: uuid.UUID | None
    team_name: str | None
    details: dict[str, Any]
    source_ip: str | None = attrs.field(
        default=None, metadata={"description": "The caller's address (null outside a request)."}
    )
    user_agent: str | None = attrs.field(
        default=None, metadata={"description": "The caller's User-Agent header, if it sent one."}
    )

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventResponse:
        """Build the response from an audit row."""
        return cls(
            id=event.id,
            at=event.at,
            actor=ActorResponse.of(event.actor),
            action=event.action,
            outcome=event.outcome,
            target_type=event.target_type,
            target_id=event.target_id,
            team_id=event.team_id,
            team_name=event.team_name,
            details=dict(event.details),
            source_ip=event.source_ip,
            user_agent=event.user_agent,
        )


@attrs.frozen(kw_only=True)
class AuditListResponse:
    """One page of audit rows, newest first, and how many match the filters in all."""

    events: list[AuditEventResponse]
    total: int

    @classmethod
    def of(cls, page: PageResult[AuditEvent]) -> AuditListResponse:
        """Build the response from one page of audit rows."""
        return cls(events=[AuditEventResponse.of(event) for event in page.items], total=page.total)


@attrs.frozen(kw_only=True)
class SecurityEventResponse:
    """One security event; ``details`` depends on the type."""

    id: uuid.UUID
    at: datetime
    type: SecurityEventType
    severity: Severity
    actor: ActorResponse
    message: str
    team_id: uuid.UUID | None
    team_name: str | None
    runner_id: uuid.UUID | None
    details: dict[str, Any]

    @classmethod
    def of(cls, event: SecurityEvent) -> SecurityEventResponse:
        """Build the response from a security event."""
        return cls(
            id=event.id,
            at=event.at,
            type=event.type,
            severity=event.severity,
            actor=ActorResponse.of(event.actor),
            message=event.message,
            team_id=event.team_id,
            team_name=event.team_name,
            runner_id=event.runner_id,
            details=dict(event.details),
        )


@attrs.frozen(kw_only=True)
class SecurityEventListResponse:
    """One page of security events, newest first, and how many match the filters in all."""

    events: list[SecurityEventResponse]
    total: int

    @classmethod
    def of(cls, page: PageResult[SecurityEvent]) -> SecurityEventListResponse:
        """Build the response from one page of security events."""
        return cls(
            events=[SecurityEventResponse.of(event) for event in page.items], total=page.total
        )


def _by_status(counts: Mapping[RunnerStatus, int]) -> dict[str, int]:
    return {str(status): count for status, count in counts.items()}


@attrs.frozen(kw_only=True)
class StatsResponse:
    """Counts for the admin dashboard; runner counts leave deleted runners out.

    ``recent_violations`` counts the security events recorded since ``recent_since``.
    """

    generated_at: datetime
    live_runners: int
    runners_by_status: dict[str, int]
    runners_by_team: dict[str, dict[str, int]]
    users: int
    active_users: int
    active_admins: int
    teams: int
    active_teams: int
    clients: int
    active_clients: int
    recent_violations: int
    recent_since: datetime

    @classmethod
    def of(cls, stats: Stats) -> StatsResponse:
        """Build the response from the service's statistics."""
        return cls(
            generated_at=stats.generated_at,
            live_runners=stats.live_runners,
            runners_by_status=_by_status(stats.runners_by_status),
            runners_by_team={
                team: _by_status(counts) for team, counts in stats.runners_by_team.items()
            },
            users=stats.users,
            active_users=stats.active_users,
            active_admins=stats.active_admins,
            teams=stats.teams,
            active_teams=stats.active_teams,
            clients=stats.clients,
            active_clients=stats.active_clients,
            recent_violations=stats.recent_violations,
            recent_since=stats.recent_since,
        )
