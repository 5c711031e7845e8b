"""Explicit conversions between table rows and domain objects, in both directions.

``*_row`` functions return the column values to write; ``to_*`` functions build the frozen attrs
object from a row read back. Nothing else in the adapter knows how a domain object is laid out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping

from gharts_core.model import (
    Actor,
    AuditEvent,
    AuditOutcome,
    Capabilities,
    Deactivation,
    LabelType,
    MachineClient,
    ObservedLabel,
    ObservedRunner,
    PrincipalKind,
    ProvisionMethod,
    RunnerRecord,
    RunnerStatus,
    RunnerTransition,
    SecurityEvent,
    SecurityEventType,
    Severity,
    SyncReport,
    SyncState,
    Team,
    TransitionSource,
    User,
)
from gharts_core.policy import LabelPolicy
from gharts_core.ports.github import ListedPage

Row = RowMapping | Mapping[str, Any]


def _deactivation_row(deactivation: Deactivation | None) -> dict[str, Any]:
    if deactivation is None:
        return {"deactivated_at": None, "deactivated_by": None, "deactivation_reason": None}
    return {
        "deactivated_at": deactivation.at,
        "deactivated_by": deactivation.by,
        "deactivation_reason": deactivation.reason,
    }


def _to_deactivation(row: Row) -> Deactivation | None:
    if row["deactivated_at"] is None:
        return None
    return Deactivation(
        reason=row["deactivation_reason"] or "",
        at=row["deactivated_at"],
        by=row["deactivated_by"] or "",
    )


def _actor_row(actor: Actor) -> dict[str, Any]:
    return {"actor_kind": actor.kind.value, "actor_id": actor.id, "actor_name": actor.name}


def _to_actor(row: Row) -> Actor:
    return Actor(kind=PrincipalKind(row["actor_kind"]), id=row["actor_id"], name=row["actor_name"])


def team_row(team: Team) -> dict[str, Any]:
    """Return the ``teams`` columns of a team."""
    return {
        "id": team.id,
        "name": team.name,
        "description": team.description,
        "required_labels": list(team.policy.required_labels),
        "optional_label_patterns": list(team.policy.optional_label_patterns),
        "allowed_runner_group_ids": list(team.allowed_runner_group_ids),
        "default_runner_group_id": team.default_runner_group_id,
        "max_runners": team.max_runners,
        "created_at": team.created_at,
        "updated_at": team.updated_at,
        **_deactivation_row(team.deactivation),
    }


def to_team(row: Row) -> Team:
    """Build a team from a ``teams`` row."""
    return Team(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        policy=LabelPolicy(
            required_labels=row["required_labels"],
            optional_label_patterns=row["optional_label_patterns"],
        ),
        allowed_runner_group_ids=row["allowed_runner_group_ids"],
        default_runner_group_id=row["default_runner_group_id"],
        max_runners=row["max_runners"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        deactivation=_to_deactivation(row),
    )


def user_row(user: User) -> dict[str, Any]:
    """Return the ``users`` columns of a user."""
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "is_admin": user.is_admin,
        "can_use_jit": user.capabilities.can_use_jit,
        "can_use_registration_token": user.capabilities.can_use_registration_token,
        "oidc_issuer": user.oidc_issuer,
        "oidc_subject": user.oidc_subject,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        **_deactivation_row(user.deactivation),
    }


def to_user(row: Row) -> User:
    """Build a user from a ``users`` row."""
    return User(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        is_admin=row["is_admin"],
        capabilities=Capabilities(
            can_use_jit=row["can_use_jit"],
            can_use_registration_token=row["can_use_registration_token"],
        ),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        oidc_issuer=row["oidc_issuer"],
        oidc_subject=row["oidc_subject"],
        deactivation=_to_deactivation(row),
    )


def client_row(client: MachineClient) -> dict[str, Any]:
    """Return the ``clients`` columns of a machine client."""
    return {
        "id": client.id,
        "issuer": client.issuer,
        "subject": client.subject,
        "team_id": client.team_id,
        "description": client.description,
        "can_use_jit": client.capabilities.can_use_jit,
        "can_use_registration_token": client.capabilities.can_use_registration_token,
        "is_active": client.is_active,
        "created_at": client.created_at,
        "updated_at": client.updated_at,
    }


def to_client(row: Row) -> MachineClient:
    """Build a machine client from a ``clients`` row."""
    return MachineClient(
        id=row["id"],
        issuer=row["issuer"],
        subject=row["subject"],
        team_id=row["team_id"],
        description=row["description"],
        capabilities=Capabilities(
            can_use_jit=row["can_use_jit"],
            can_use_registration_token=row["can_use_registration_token"],
        ),
        is_active=row["is_active"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def runner_row(runner: RunnerRecord) -> dict[str, Any]:
    """Return the ``runners`` columns of a runner record (labels also go to ``runner_labels``)."""
    return {
        "id": runner.id,
        "name": runner.name,
        "team_id": runner.team_id,
        "team_name": runner.team_name,
        "labels": list(runner.labels),
        "runner_group_id": runner.runner_group_id,
        "status": runner.status.value,
        "method": runner.method.value,
        **_actor_row(runner.created_by),
        "created_at": runner.created_at,
        "updated_at": runner.updated_at,
        "github_runner_id": runner.github_runner_id,
        "expires_at": runner.expires_at,
        "deleted_at": runner.deleted_at,
        "deleted_reason": runner.deleted_reason,
    }


def to_runner(row: Row) -> RunnerRecord:
    """Build a runner record from a ``runners`` row."""
    return RunnerRecord(
        id=row["id"],
        name=row["name"],
        team_id=row["team_id"],
        team_name=row["team_name"],
        labels=row["labels"],
        runner_group_id=row["runner_group_id"],
        status=RunnerStatus(row["status"]),
        method=ProvisionMethod(row["method"]),
        created_by=_to_actor(row),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        github_runner_id=row["github_runner_id"],
        expires_at=row["expires_at"],
        deleted_at=row["deleted_at"],
        deleted_reason=row["deleted_reason"],
    )


def transition_row(transition: RunnerTransition) -> dict[str, Any]:
    """Return the ``runner_transitions`` columns of a transition."""
    return {
        "runner_id": transition.runner_id,
        "from_status": None if transition.from_status is None else transition.from_status.value,
        "to_status": transition.to_status.value,
        "source": transition.source.value,
        "at": transition.at,
        "reason": transition.reason,
    }


def to_transition(row: Row) -> RunnerTransition:
    """Build a transition from a ``runner_transitions`` row."""
    return RunnerTransition(
        runner_id=row["runner_id"],
        from_status=None if row["from_status"] is None else RunnerStatus(row["from_status"]),
        to_status=RunnerStatus(row["to_status"]),
        source=TransitionSource(row["source"]),
        at=row["at"],
        reason=row["reason"],
    )


def audit_row(event: AuditEvent) -> dict[str, Any]:
    """Return the ``audit_events`` columns of an audit event."""
    return {
        "id": event.id,
        "at": event.at,
        **_actor_row(event.actor),
        "action": event.action,
        "outcome": event.outcome.value,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "team_id": event.team_id,
        "team_name": event.team_name,
        "details": dict(event.details),
        "source_ip": event.source_ip,
        "user_agent": event.user_agent,
    }


def to_audit(row: Row) -> AuditEvent:
    """Build an audit event from an ``audit_events`` row."""
    return AuditEvent(
        id=row["id"],
        at=row["at"],
        actor=_to_actor(row),
        action=row["action"],
        outcome=AuditOutcome(row["outcome"]),
        target_type=row["target_type"],
        target_id=row["target_id"],
        team_id=row["team_id"],
        team_name=row["team_name"],
        details=row["details"],
        source_ip=row["source_ip"],
        user_agent=row["user_agent"],
    )


def security_row(event: SecurityEvent) -> dict[str, Any]:
    """Return the ``security_events`` columns of a security event."""
    return {
        "id": event.id,
        "at": event.at,
        "type": event.type.value,
        "severity": event.severity.value,
        **_actor_row(event.actor),
        "message": event.message,
        "team_id": event.team_id,
        "team_name": event.team_name,
        "runner_id": event.runner_id,
        "details": dict(event.details),
    }


def to_security(row: Row) -> SecurityEvent:
    """Build a security event from a ``security_events`` row."""
    return SecurityEvent(
        id=row["id"],
        at=row["at"],
        type=SecurityEventType(row["type"]),
        severity=Severity(row["severity"]),
        actor=_to_actor(row),
        message=row["message"],
        team_id=row["team_id"],
        team_name=row["team_name"],
        runner_id=row["runner_id"],
        details=row["details"],
    )


def _report_document(report: SyncReport) -> dict[str, Any]:
    return {
        "started_at": report.started_at.isoformat(),
        "finished_at": report.finished_at.isoformat(),
        "observed": report.observed,
        "unmanaged": report.unmanaged,
        "actions": dict(report.actions),
        "errors": list(report.errors),
        "purged_audit_rows": report.purged_audit_rows,
    }


def _to_report(document: Mapping[str, Any]) -> SyncReport:
    return SyncReport(
        started_at=datetime.fromisoformat(document["started_at"]),
        finished_at=datetime.fromisoformat(document["finished_at"]),
        observed=document["observed"],
        unmanaged=document["unmanaged"],
        actions=document["actions"],
        errors=tuple(document["errors"]),
        purged_audit_rows=document["purged_audit_rows"],
    )


def sync_state_row(state: SyncState) -> dict[str, Any]:
    """Return the ``sync_state`` columns (the table has one row, id 1)."""
    return {
        "id": 1,
        "leader": state.leader,
        "heartbeat_at": state.heartbeat_at,
        "cycles": state.cycles,
        "last_report": None if state.last_report is None else _report_document(state.last_report),
    }


def to_sync_state(row: Row) -> SyncState:
    """Build the sync state from the ``sync_state`` row."""
    report = row["last_report"]
    return SyncState(
        leader=row["leader"],
        heartbeat_at=row["heartbeat_at"],
        last_report=None if report is None else _to_report(report),
        cycles=row["cycles"],
    )


def _observed_document(runner: ObservedRunner) -> dict[str, Any]:
    return {
        "id": runner.id,
        "name": runner.name,
        "os": runner.os,
        "status": runner.status,
        "busy": runner.busy,
        "labels": [{"name": label.name, "type": label.type.value} for label in runner.labels],
        "runner_group_id": runner.runner_group_id,
        "ephemeral": runner.ephemeral,
    }


# Enum lookups by value through a dict: ``LabelType(value)`` costs more than the rest of building a
# label, and a sync cycle builds 300,000 of them from the kept pages.
_LABEL_TYPES = {member.value: member for member in LabelType}


def _label_type(value: str) -> LabelType:
    return _LABEL_TYPES.get(value) or LabelType(value)


def _to_observed(document: Mapping[str, Any]) -> ObservedRunner:
    return ObservedRunner(
        id=document["id"],
        name=document["name"],
        os=document["os"],
        status=document["status"],
        busy=document["busy"],
        labels=[
            ObservedLabel(name=lb["name"], type=_label_type(lb["type"]))
            for lb in document["labels"]
        ],
        runner_group_id=document["runner_group_id"],
        ephemeral=document["ephemeral"],
    )


def listed_page_row(page: ListedPage, position: int) -> dict[str, Any]:
    """Return the ``sync_listed_pages`` columns of one page, ``position`` its place in the list."""
    return {
        "url": page.url,
        "position": position,
        "etag": page.etag,
        "next_url": page.next_url,
        "runners": [_observed_document(runner) for runner in page.runners],
    }


def to_listed_page(row: Row) -> ListedPage:
    """Build a listed page from a ``sync_listed_pages`` row."""
    return ListedPage(
        url=row["url"],
        etag=row["etag"],
        runners=tuple(_to_observed(document) for document in row["runners"]),
        next_url=row["next_url"],
    )
