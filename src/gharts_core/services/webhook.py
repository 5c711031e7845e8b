"""GitHub ``workflow_job`` webhooks: keep runner status current and re-check labels on use.

The HTTP layer checks the HMAC signature and turns the payload into a :class:`WorkflowJobEvent`;
this service de-duplicates deliveries by id, then:

- ``in_progress`` marks the runner ``busy`` and re-checks its labels (the provisioned ones plus
  the job's, which the runner must carry to have been picked) against the team's *current*
  policy. A refusal is a security event; in ``enforce`` mode the workflow run is also cancelled
  and the runner removed.
- ``completed`` retires the runner: gharts runners are ephemeral, one job each.

Events about runners gharts did not provision are ``ignored``. A delivery counts as done only
once its effects are: it is recorded in the unit of work that writes them, and a delivery that
must be enforced is recorded only after the run was cancelled and the runner removed. A failed
enforcement raises (GitHub sees a failed delivery), and GitHub's redelivery of the same id acts
again; a delivery that is done is answered ``duplicate`` and never acts twice.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import structlog

from gharts_core.errors import GhartsError
from gharts_core.model import (
    Actor,
    AuditAction,
    AuditEvent,
    AuditOutcome,
    PrincipalKind,
    RunnerRecord,
    RunnerStatus,
    SecurityEventType,
    Severity,
    Team,
    TransitionSource,
)
from gharts_core.policy import LabelDecision, evaluate_labels
from gharts_core.ports.clock import Clock
from gharts_core.ports.github import RunnerPlatform
from gharts_core.ports.storage import Store, UnitOfWork
from gharts_core.services._events import audit_event, security_event
from gharts_core.services._runner_state import JOB_COMPLETED, LABEL_POLICY_VIOLATION, move

__all__ = [
    "WEBHOOK_ACTOR",
    "WebhookEnforcement",
    "WebhookOutcome",
    "WebhookService",
    "WebhookSettings",
    "WorkflowJobAction",
    "WorkflowJobEvent",
]

WEBHOOK_ACTOR = Actor(kind=PrincipalKind.SYSTEM, id=None, name="github-webhook")
"""Who audit rows and transitions caused by webhooks are attributed to."""

_SOURCE = TransitionSource.WEBHOOK
_MAX_DETAIL_LENGTH = 200

_log = structlog.get_logger(__name__)


class WebhookEnforcement(enum.StrEnum):
    """What a label re-check does when the current policy refuses a busy runner's labels."""

    AUDIT = "audit"
    ENFORCE = "enforce"


class WorkflowJobAction(enum.StrEnum):
    """The ``action`` of a ``workflow_job`` event."""

    QUEUED = "queued"
    WAITING = "waiting"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class WebhookOutcome(enum.StrEnum):
    """What the service did with a delivery."""

    PROCESSED = "processed"
    IGNORED = "ignored"
    DUPLICATE = "duplicate"


def _labels(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class WebhookSettings:
    """``enforcement``: ``audit`` only records label violations, ``enforce`` also acts."""

    enforcement: WebhookEnforcement = WebhookEnforcement.AUDIT


@attrs.frozen(kw_only=True)
class WorkflowJobEvent:
    """A verified ``workflow_job`` delivery, in domain terms.

    ``runner_id`` is GitHub's runner id; ``labels`` are the job's ``runs-on`` labels;
    ``repository`` is ``owner/name``.
    """

    delivery_id: str
    action: WorkflowJobAction = attrs.field(converter=WorkflowJobAction)
    repository: str
    run_id: int
    job_id: int
    labels: tuple[str, ...] = attrs.field(default=(), converter=_labels)
    runner_id: int | None = None
    runner_name: str | None = None


class _AlreadyDone(Exception):
    """The delivery was recorded by a concurrent handling of it: this one's writes roll back."""


@attrs.frozen
class _Violation:
    runner: RunnerRecord
    team: Team
    decision: LabelDecision


class WebhookService:
    """Apply ``workflow_job`` events to the runners gharts manages."""

    def __init__(
        self,
        store: Store,
        github: RunnerPlatform,
        clock: Clock,
        settings: WebhookSettings | None = None,
    ) -> None:
        self._store = store
        self._github = github
        self._clock = clock
        self._settings = settings or WebhookSettings()

    async def handle(self, event: WorkflowJobEvent) -> WebhookOutcome:
        """Apply one delivery and say whether it was processed, ignored or a duplicate.

        In ``enforce`` mode a failure to cancel the workflow run or to remove the runner is
        audited and raised, and the delivery is left unrecorded so that GitHub's redelivery
        enforces again.
        """
        violation: _Violation | None = None
        enforce = self._settings.enforcement is WebhookEnforcement.ENFORCE
        try:
            async with self._store.unit_of_work() as uow:
                if await uow.webhook_deliveries.seen(event.delivery_id):
                    return WebhookOutcome.DUPLICATE
                runner = await _managed_runner(uow, event)
                team = None if runner is None else await uow.teams.get(runner.team_id)
                if runner is None or team is None:
                    await self._done(uow, event)
                    return WebhookOutcome.IGNORED
                if event.action is WorkflowJobAction.IN_PROGRESS:
                    violation = await self._started(uow, event, runner, team)
                else:
                    await self._completed(uow, event, runner, team)
                if violation is None or not enforce:
                    await self._done(uow, event)
        except _AlreadyDone:
            return WebhookOutcome.DUPLICATE
        if violation is not None and enforce:
            await self._enforce(event, violation)
        return WebhookOutcome.PROCESSED

    async def _done(self, uow: UnitOfWork, event: WorkflowJobEvent) -> None:
        """Record the delivery with its effects; roll them back if it was done meanwhile."""
        if not await uow.webhook_deliveries.record(event.delivery_id, self._clock.now()):
            raise _AlreadyDone

    async def record_forged_delivery(self, details: Mapping[str, Any]) -> None:
        """Record a delivery whose signature did not verify (the HTTP layer answers 401)."""
        safe = {str(key): str(value)[:_MAX_DETAIL_LENGTH] for key, value in details.items()}
        async with self._store.unit_of_work() as uow:
            await uow.security_events.append(
                security_event(
                    self._clock,
                    Actor(kind=PrincipalKind.SYSTEM, id=None, name="unauthenticated"),
                    SecurityEventType.WEBHOOK_SIGNATURE_INVALID,
                    "A webhook delivery with a missing or invalid signature was refused.",
                    severity=Severity.WARNING,
                    details=safe,
                )
            )

    async def _started(
        self, uow: UnitOfWork, event: WorkflowJobEvent, runner: RunnerRecord, team: Team
    ) -> _Violation | None:
        busy = await self._mark_busy(uow, event, runner)
        if busy is None:
            return None  # retired meanwhile: nothing runs on it any more
        await uow.audit.append(self._audit(event, busy, team, AuditOutcome.SUCCESS, {}))
        decision = evaluate_labels(team.policy, (*busy.labels, *event.labels))
        if decision.allowed:
            return None
        enforce = self._settings.enforcement is WebhookEnforcement.ENFORCE
        await uow.security_events.append(
            security_event(
                self._clock,
                WEBHOOK_ACTOR,
                SecurityEventType.WEBHOOK_LABEL_VIOLATION,
                f"Runner '{busy.name}' started a job with labels the team policy now refuses.",
                severity=Severity.CRITICAL if enforce else Severity.WARNING,
                team=team,
                runner_id=busy.id,
                details={
                    **_job_details(event),
                    "enforcement": self._settings.enforcement.value,
                    "violations": [v.as_dict() for v in decision.violations],
                },
            )
        )
        return _Violation(busy, team, decision)

    async def _mark_busy(
        self, uow: UnitOfWork, event: WorkflowJobEvent, runner: RunnerRecord
    ) -> RunnerRecord | None:
        """Move the runner to ``busy`` by compare-and-set; ``None`` if it was retired meanwhile."""
        read: RunnerRecord | None = runner
        while read is not None and read.status.is_live:
            now = self._clock.now()
            busy = read
            if event.runner_id is not None and read.github_runner_id is None:
                busy = attrs.evolve(busy, github_runner_id=event.runner_id, updated_at=now)
            transition = None
            if read.status is not RunnerStatus.BUSY:
                busy, transition = move(busy, RunnerStatus.BUSY, at=now, source=_SOURCE)
            if busy == read or await uow.runners.advance(read, busy, transition):
                return busy
            read = await uow.runners.get(runner.id)
        return None

    async def _completed(
        self, uow: UnitOfWork, event: WorkflowJobEvent, runner: RunnerRecord, team: Team
    ) -> None:
        read: RunnerRecord | None = runner
        while True:
            if read is None or read.status is RunnerStatus.DELETED:
                return  # retired meanwhile by someone else: deleted is terminal
            retired, transition = move(
                read,
                RunnerStatus.DELETED,
                at=self._clock.now(),
                source=_SOURCE,
                reason=JOB_COMPLETED,
            )
            if await uow.runners.advance(read, retired, transition):
                break
            read = await uow.runners.get(runner.id)
        await uow.audit.append(self._audit(event, retired, team, AuditOutcome.SUCCESS, {}))

    async def _enforce(self, event: WorkflowJobEvent, violation: _Violation) -> None:
        runner, team = violation.runner, violation.team
        try:
            await self._github.cancel_workflow_run(event.repository, event.run_id)
        except GhartsError as error:
            await self._record(event, runner, team, AuditOutcome.FAILURE, _failed(error, "cancel"))
            raise
        try:
            if runner.github_runner_id is not None:
                await self._github.delete_runner(runner.github_runner_id)
        except GhartsError as error:
            _log.warning("webhook.runner_removal_failed", runner_id=str(runner.id))
            await self._record(event, runner, team, AuditOutcome.FAILURE, _failed(error, "remove"))
            raise
        try:
            await self._enforced(event, runner, team)
        except _AlreadyDone:
            _log.info("webhook.enforced_concurrently", delivery_id=event.delivery_id)

    async def _enforced(self, event: WorkflowJobEvent, runner: RunnerRecord, team: Team) -> None:
        """Retire the removed runner and record the delivery as done, in one unit of work."""
        async with self._store.unit_of_work() as uow:
            await self._done(uow, event)
            current = await uow.runners.get(runner.id) or runner
            removed = current
            if current.status is not RunnerStatus.DELETED:
                moved, transition = move(
                    current,
                    RunnerStatus.DELETED,
                    at=self._clock.now(),
                    source=_SOURCE,
                    reason=LABEL_POLICY_VIOLATION,
                )
                if await uow.runners.advance(current, moved, transition):
                    removed = moved
            details = {"enforced": True, "run_cancelled": True, "runner_removed": True}
            await uow.audit.append(self._audit(event, removed, team, AuditOutcome.SUCCESS, details))

    async def _record(
        self,
        event: WorkflowJobEvent,
        runner: RunnerRecord,
        team: Team,
        outcome: AuditOutcome,
        details: Mapping[str, Any],
    ) -> None:
        async with self._store.unit_of_work() as uow:
            await uow.audit.append(self._audit(event, runner, team, outcome, details))

    def _audit(
        self,
        event: WorkflowJobEvent,
        runner: RunnerRecord,
        team: Team,
        outcome: AuditOutcome,
        details: Mapping[str, Any],
    ) -> AuditEvent:
        return audit_event(
            self._clock,
            WEBHOOK_ACTOR,
            AuditAction.WEBHOOK_JOB,
            target_type="runner",
            target_id=runner.id,
            outcome=outcome,
            team=team,
            details={
                **_job_details(event),
                "runner_name": runner.name,
                "status": runner.status.value,
                **details,
            },
        )


_HANDLED = frozenset({WorkflowJobAction.IN_PROGRESS, WorkflowJobAction.COMPLETED})


async def _managed_runner(uow: UnitOfWork, event: WorkflowJobEvent) -> RunnerRecord | None:
    if event.action not in _HANDLED or (event.runner_id is None and not event.runner_name):
        return None
    candidates = await uow.runners.find_live(
        github_runner_id=event.runner_id, name=event.runner_name or None
    )
    return _match(candidates, event.runner_id, event.runner_name)


def _match(
    runners: Sequence[RunnerRecord], github_runner_id: int | None, name: str | None
) -> RunnerRecord | None:
    by_id = (
        None
        if github_runner_id is None
        else next(
            (
                r
                for r in runners
                if r.github_runner_id == github_runner_id
                and (not name or r.name.lower() == name.lower())
            ),
            None,
        )
    )
    if by_id is not None or not name:
        return by_id
    # By name only when the ids cannot disagree: a runner with another GitHub id that reused
    # the name is not ours.
    folded = name.lower()
    return next(
        (
            r
            for r in runners
            if r.name.lower() == folded and None in {r.github_runner_id, github_runner_id}
        ),
        None,
    )


def _job_details(event: WorkflowJobEvent) -> dict[str, Any]:
    return {
        "delivery_id": event.delivery_id,
        "action": event.action.value,
        "repository": event.repository,
        "run_id": event.run_id,
        "job_id": event.job_id,
        "job_labels": list(event.labels),
    }


def _failed(error: GhartsError, step: str) -> dict[str, Any]:
    return {"enforced": True, "step": step, "error": error.code.value}
