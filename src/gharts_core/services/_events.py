"""Builders for audit rows and security events, so every use case records them the same way."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from gharts_core.model import (
    Actor,
    AuditAction,
    AuditEvent,
    AuditOutcome,
    SecurityEvent,
    SecurityEventType,
    Severity,
    Team,
    new_id,
)
from gharts_core.ports.clock import Clock
from gharts_core.request_origin import RequestOrigin, current_origin


def audit_event(
    clock: Clock,
    actor: Actor,
    action: AuditAction,
    *,
    target_type: str,
    target_id: object | None = None,
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    team: Team | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Return an audit row stamped with the clock's time and the current request's origin.

    ``details`` must be JSON-serialisable.
    """
    origin = current_origin.get() or RequestOrigin()
    return AuditEvent(
        id=new_id(),
        at=clock.now(),
        actor=actor,
        action=action.value,
        outcome=outcome,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        team_id=team.id if team else None,
        team_name=team.name if team else None,
        details=dict(details or {}),
        source_ip=origin.address,
        user_agent=origin.user_agent,
    )


def security_event(
    clock: Clock,
    actor: Actor,
    type_: SecurityEventType,
    message: str,
    *,
    severity: Severity = Severity.WARNING,
    team: Team | None = None,
    runner_id: uuid.UUID | None = None,
    details: Mapping[str, Any] | None = None,
) -> SecurityEvent:
    """Return a security event stamped with the clock's time."""
    return SecurityEvent(
        id=new_id(),
        at=clock.now(),
        type=type_,
        severity=severity,
        actor=actor,
        message=message,
        team_id=team.id if team else None,
        team_name=team.name if team else None,
        runner_id=runner_id,
        details=dict(details or {}),
    )
