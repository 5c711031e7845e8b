"""Refused provisioning requests: one DENIED audit row, and a security event when it matters.

Client mistakes (no team named, a malformed label, a taken name) are audited only; attempts that
cross a boundary (another team, a forbidden label or runner group, a missing capability) and quota
exhaustion are also security events, so admins see them on their own page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import structlog

from gharts_core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    GhartsError,
    InvalidLabels,
    LabelPolicyViolation,
    NotFound,
    NotTeamMember,
    QuotaExceeded,
    RunnerGroupNotAllowed,
    TooManyRequests,
    UserNotAuthorized,
)
from gharts_core.model import (
    AuditAction,
    AuditOutcome,
    Principal,
    SecurityEventType,
    Severity,
    Team,
)
from gharts_core.policy import Violation, ViolationReason
from gharts_core.ports.clock import Clock
from gharts_core.ports.storage import Store
from gharts_core.services._events import audit_event, security_event

REFUSALS = (Forbidden, TooManyRequests, BadRequest, NotFound, Conflict)
"""The errors that mean "no" to the caller, as opposed to an outage."""

_log = structlog.get_logger(__name__)


async def record_denial(
    store: Store,
    clock: Clock,
    principal: Principal,
    *,
    team: Team | None,
    error: GhartsError,
    details: Mapping[str, Any],
    violations: Sequence[Violation] = (),
) -> None:
    """Append the DENIED audit row (and the security event, if any) for a refused request.

    ``violations`` are the label decision's, when labels were judged: a request with malformed
    labels is refused as ``INVALID_LABELS``, yet the policy refusals beside them are still
    reported. A storage failure here is logged and swallowed: the caller must still get the
    refusal.
    """
    row = audit_event(
        clock,
        principal.actor,
        AuditAction.RUNNER_PROVISION,
        target_type="runner",
        outcome=AuditOutcome.DENIED,
        team=team,
        details={**details, "error_code": error.code.value, "reason": error.detail},
    )
    event = None
    if (classified := _classify(error, violations)) is not None:
        kind, severity, extra = classified
        event = security_event(
            clock,
            principal.actor,
            kind,
            error.detail,
            severity=severity,
            team=team,
            details={**details, "error_code": error.code.value, **extra},
        )
    try:
        async with store.unit_of_work() as uow:
            await uow.audit.append(row)
            if event is not None:
                await uow.security_events.append(event)
    except Exception:
        _log.exception("provision.denial_not_recorded", error_code=error.code.value)


def _classify(
    error: GhartsError, violations: Sequence[Violation]
) -> tuple[SecurityEventType, Severity, dict[str, Any]] | None:
    if isinstance(error, LabelPolicyViolation | InvalidLabels):
        refused = [v.as_dict() for v in violations if v.reason is ViolationReason.NOT_ALLOWED]
        if not refused:
            return None
        return SecurityEventType.LABEL_POLICY_VIOLATION, Severity.WARNING, {"violations": refused}
    if isinstance(error, RunnerGroupNotAllowed):
        return SecurityEventType.RUNNER_GROUP_VIOLATION, Severity.WARNING, {}
    if isinstance(error, QuotaExceeded):
        return SecurityEventType.QUOTA_EXCEEDED, Severity.INFO, {}
    if isinstance(error, NotTeamMember | UserNotAuthorized):
        return SecurityEventType.UNAUTHORIZED_ACCESS, Severity.WARNING, {}
    return None
