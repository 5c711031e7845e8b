"""What the sync worker writes about its actions: audit rows, drift events, transition reasons."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from gharts_core.drift import (
    ActionKind,
    AdoptStuckRunner,
    DriftAction,
    MarkDeleted,
    RemoveDriftedRunner,
    RemoveExpiredRunner,
    RemoveOfflineRunner,
    RemoveStuckRunner,
    ReportBusyDrift,
)
from gharts_core.model import (
    Actor,
    AuditAction,
    AuditEvent,
    AuditOutcome,
    Principal,
    RunnerRecord,
    SecurityEvent,
    SecurityEventType,
    Severity,
    SyncReport,
    Team,
)
from gharts_core.ports.clock import Clock
from gharts_core.services._events import audit_event, security_event

_AUDIT_ACTIONS = {
    ActionKind.BIND_GITHUB_ID: AuditAction.RUNNER_STATUS,
    ActionKind.CHANGE_STATUS: AuditAction.RUNNER_STATUS,
    ActionKind.MARK_DELETED: AuditAction.RUNNER_STATUS,
    ActionKind.REMOVE_DRIFTED_RUNNER: AuditAction.RUNNER_DRIFT,
    ActionKind.REPORT_BUSY_DRIFT: AuditAction.RUNNER_DRIFT,
    ActionKind.ADOPT_STUCK_RUNNER: AuditAction.RUNNER_ADOPT,
    ActionKind.REMOVE_STUCK_RUNNER: AuditAction.RUNNER_STATUS,
    ActionKind.REMOVE_EXPIRED_RUNNER: AuditAction.RUNNER_STATUS,
    ActionKind.REMOVE_OFFLINE_RUNNER: AuditAction.RUNNER_STATUS,
}


def transition_reason(action: DriftAction) -> str | None:
    """Return why the action changes the runner's status, as recorded on the transition."""
    if isinstance(
        action,
        MarkDeleted
        | RemoveDriftedRunner
        | RemoveStuckRunner
        | RemoveExpiredRunner
        | RemoveOfflineRunner,
    ):
        return action.reason.value
    return "adopted" if isinstance(action, AdoptStuckRunner) else None


def audit_row(
    clock: Clock,
    action: DriftAction,
    before: RunnerRecord,
    after: RunnerRecord,
    *,
    team: Team | None,
    error: str | None = None,
) -> AuditEvent:
    """Return the audit row of one action (``error``: the removal on GitHub failed)."""
    details: dict[str, Any] = {
        "kind": action.kind.value,
        "from": before.status.value,
        "to": after.status.value,
        "github_runner_id": getattr(action, "github_runner_id", after.github_runner_id),
    }
    reason = transition_reason(action)
    if reason is not None:
        details["reason"] = reason
    if isinstance(action, RemoveDriftedRunner | ReportBusyDrift):
        details |= _drift_details(action)
    if error is not None:
        details["error"] = error
    return audit_event(
        clock,
        Actor.system(),
        _AUDIT_ACTIONS[action.kind],
        target_type="runner",
        target_id=before.id,
        outcome=AuditOutcome.SUCCESS if error is None else AuditOutcome.FAILURE,
        team=team,
        details=details,
    )


def drift_event(
    clock: Clock,
    action: RemoveDriftedRunner | ReportBusyDrift,
    team: Team | None,
    error: str | None = None,
) -> SecurityEvent:
    """Return the ``label_drift`` security event: what was expected, what GitHub reported."""
    details = _drift_details(action)
    if error is not None:
        outcome = f"removing it from GitHub failed ({error})"
    elif details["removed"]:
        outcome = "it was removed"
    else:
        outcome = "it is running a job and was left running"
    return security_event(
        clock,
        Actor.system(),
        SecurityEventType.LABEL_DRIFT,
        f"Runner '{action.runner.name}' carries labels it was not provisioned with; {outcome}.",
        severity=Severity.CRITICAL if details["busy"] or error else Severity.WARNING,
        team=team,
        runner_id=action.runner.id,
        details=details if error is None else {**details, "removed": False, "error": error},
    )


def purge_row(clock: Clock, purged: int, cutoff: datetime) -> AuditEvent:
    """Return the audit row that records a retention purge."""
    return audit_event(
        clock,
        Actor.system(),
        AuditAction.AUDIT_PURGE,
        target_type="audit_log",
        details={"purged": purged, "before": cutoff.isoformat()},
    )


class TriggerOutcome(enum.StrEnum):
    """What became of an admin's request for a sync cycle."""

    SCHEDULED = "scheduled"  # a worker was asked to run one early
    RAN = "ran"  # run at once, in the requesting process
    REFUSED = "refused"  # another process leads and could not be asked


def trigger_row(
    clock: Clock, principal: Principal, outcome: TriggerOutcome, report: SyncReport | None
) -> AuditEvent:
    """Return the audit row of an admin's request for a cycle (with the cycle's report, if run)."""
    details: dict[str, Any] = {"result": outcome.value}
    if report is not None:
        details |= {"actions": dict(report.actions), "errors": len(report.errors)}
    failed = outcome is TriggerOutcome.REFUSED or (report is not None and bool(report.errors))
    return audit_event(
        clock,
        principal.actor,
        AuditAction.SYNC_TRIGGER,
        target_type="sync",
        outcome=AuditOutcome.FAILURE if failed else AuditOutcome.SUCCESS,
        details=details,
    )


def _drift_details(action: RemoveDriftedRunner | ReportBusyDrift) -> dict[str, Any]:
    expected, observed = set(action.expected_labels), set(action.observed_labels)
    return {
        "runner_name": action.runner.name,
        "github_runner_id": action.github_runner_id,
        "expected_labels": list(action.expected_labels),
        "observed_labels": list(action.observed_labels),
        "unexpected_labels": sorted(observed - expected),
        "missing_labels": sorted(expected - observed),
        "busy": isinstance(action, ReportBusyDrift) or action.busy,
        "removed": isinstance(action, RemoveDriftedRunner),
    }
