"""Audit rows and security events written straight to the store, for the audit API tests.

The API only ever appends them as side effects; tests that exercise filters need rows at known
times, with known actors and teams. The test client runs the app in its own event loop (a
blocking portal), so the store is used there: PostgreSQL connections belong to one loop.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from gharts_core.model import (
    Actor,
    AuditEvent,
    AuditOutcome,
    PrincipalKind,
    SecurityEvent,
    SecurityEventType,
    Severity,
    new_id,
)
from tests.integration.api_support import Api

T0 = datetime(2020, 1, 1, tzinfo=UTC)


def _user(name: str) -> Actor:
    return Actor(kind=PrincipalKind.USER, id=None, name=name)


def audit_row(
    name: str,
    *,
    actor: str = "alice",
    action: str = "runner.provision",
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    target: str = "t1",
    team: dict[str, Any] | None = None,
    hours: float = 0,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """An audit row at ``T0 + hours``, named by ``details["row"]``."""
    return AuditEvent(
        id=new_id(),
        at=T0 + timedelta(hours=hours),
        actor=_user(actor),
        action=action,
        outcome=outcome,
        target_type="runner",
        target_id=target,
        team_id=None if team is None else uuid.UUID(team["id"]),
        team_name=None if team is None else team["name"],
        details={"row": name, **(details or {})},
    )


async def _append(api: Api, audit: Sequence[AuditEvent], events: Sequence[SecurityEvent]) -> None:
    async with api.services.store.unit_of_work() as uow:
        for row in audit:
            await uow.audit.append(row)
        for event in events:
            await uow.security_events.append(event)


def add_audit(api: Api, *rows: AuditEvent) -> None:
    """Append rows to the audit log in the app's event loop, where its connections live."""
    api.http.blocking_portal.call(_append, api, rows, ())


def add_security_events(api: Api, *events: SecurityEvent) -> None:
    """Append security events in the app's event loop, where its connections live."""
    api.http.blocking_portal.call(_append, api, (), events)


def security_row(
    name: str,
    type_: SecurityEventType,
    severity: Severity,
    *,
    team: dict[str, Any] | None = None,
    hours: float = 0,
) -> SecurityEvent:
    """A security event at ``T0 + hours``, named by ``details["row"]``."""
    return SecurityEvent(
        id=new_id(),
        at=T0 + timedelta(hours=hours),
        type=type_,
        severity=severity,
        actor=_user("mallory"),
        message=f"event {name}",
        team_id=None if team is None else uuid.UUID(team["id"]),
        team_name=None if team is None else team["name"],
        details={"row": name},
    )
