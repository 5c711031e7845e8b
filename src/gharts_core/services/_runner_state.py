"""Moving a runner record from one status to another, with the transition that records it."""

from __future__ import annotations

from datetime import datetime

import attrs

from gharts_core.drift import github_status
from gharts_core.model import (
    ObservedRunner,
    RunnerRecord,
    RunnerStatus,
    RunnerTransition,
    TransitionSource,
)

DEPROVISIONED = "deprovisioned"
VANISHED = "vanished_from_github"
JOB_COMPLETED = "job_completed"
LABEL_POLICY_VIOLATION = "label_policy_violation"


def move(
    runner: RunnerRecord,
    to: RunnerStatus,
    *,
    at: datetime,
    source: TransitionSource,
    reason: str | None = None,
) -> tuple[RunnerRecord, RunnerTransition]:
    """Return the runner in status ``to`` and the transition to record beside it.

    Moving to ``deleted`` also stamps ``deleted_at`` and ``deleted_reason``.
    """
    moved = attrs.evolve(runner, status=to, updated_at=at)
    if to is RunnerStatus.DELETED:
        moved = attrs.evolve(moved, deleted_at=at, deleted_reason=reason)
    transition = RunnerTransition(
        runner_id=runner.id,
        from_status=runner.status,
        to_status=to,
        source=source,
        at=at,
        reason=reason,
    )
    return moved, transition


def observed_status(current: RunnerStatus, observed: ObservedRunner) -> RunnerStatus:
    """Return the status GitHub's view implies; a runner never seen online stays ``pending``.

    Same mapping as the drift detector (:func:`gharts_core.drift.github_status`), so a refresh and
    a sync cycle never disagree about one runner.
    """
    status = github_status(observed)
    if status is RunnerStatus.OFFLINE and current in {
        RunnerStatus.PROVISIONING,
        RunnerStatus.PENDING,
    }:
        return RunnerStatus.PENDING
    return status
