"""What a proposed team policy would change, before it is saved (the admin's impact preview).

A policy change applies to new runners at once. Existing runners are not judged by the drift
check (it compares GitHub's labels with the provisioned ones, never with the policy); what acts
on them is the webhook re-check when a runner starts its next job: in ``audit`` mode it records a
security event and lets the job run, in ``enforce`` mode it cancels the run and removes the
runner. A busy runner was checked when its current job started, so it finishes that job and
retires (runners are ephemeral). The preview therefore names every live runner whose labels the
proposed policy refuses, evaluated as the webhook re-check evaluates them, and what will happen
to it.

The preview also replays the team's provisioning requests of the last seven days (the
``runner.provision`` audit rows) against the proposed policy. A refused request's row holds the
labels asked for; an accepted one holds the final labels, which include the labels the policy
then required: those of the current policy are taken out again, since gharts added them and the
requester did not ask for them (a policy changed within the window makes this an estimate).
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import attrs

from gharts_core.errors import Violation
from gharts_core.model import (
    AuditAction,
    AuditEvent,
    AuditOutcome,
    Principal,
    RunnerRecord,
    RunnerStatus,
    Team,
)
from gharts_core.policy import LabelPolicy, evaluate_labels
from gharts_core.ports.clock import Clock
from gharts_core.ports.storage import (
    MAX_PAGE_SIZE,
    AuditFilter,
    Page,
    RunnerFilter,
    Store,
    UnitOfWork,
)
from gharts_core.services._lookups import require_admin, team_by_name
from gharts_core.services._patching import given
from gharts_core.services._team_settings import TeamSettings, build_settings
from gharts_core.services.admin_teams import UpdateTeam
from gharts_core.services.webhook import WebhookEnforcement

__all__ = [
    "REQUEST_WINDOW",
    "PolicyImpact",
    "PolicyImpactService",
    "RequestReplay",
    "RunnerAction",
    "RunnerImpact",
    "proposed_settings",
    "replay_requests",
    "runner_impacts",
]

REQUEST_WINDOW = timedelta(days=7)
"""How far back the provisioning requests are replayed."""

MAX_REPLAYED_REQUESTS = 20_000
"""The most requests one preview reads (newest first); more are reported as left out."""

IDLE_STATUSES = frozenset({RunnerStatus.ONLINE, RunnerStatus.OFFLINE})
"""Runners an admin may remove at once from the preview: registered, and running no job."""


class RunnerAction(enum.StrEnum):
    """What gharts will do about a live runner whose labels the new policy refuses."""

    #: Its next job is re-checked: a security event is recorded and the job runs (``audit``).
    NEXT_JOB_AUDITED = "next_job_audited"
    #: Its next job is re-checked: the run is cancelled and the runner removed (``enforce``).
    NEXT_JOB_CANCELLED = "next_job_cancelled"
    #: It is running a job that was checked when it started; it retires when the job ends.
    FINISHES_CURRENT_JOB = "finishes_current_job"


@attrs.frozen
class RunnerImpact:
    """A live runner the proposed policy refuses: the refused labels and what happens next."""

    runner: RunnerRecord
    violations: tuple[Violation, ...]
    action: RunnerAction

    @property
    def idle(self) -> bool:
        """Whether the runner is online or offline and not busy (it may be removed now)."""
        return self.runner.status in IDLE_STATUSES


@attrs.frozen
class RequestReplay:
    """The team's recent provisioning requests judged again, by label, under two policies.

    ``considered`` requests were read (newest first, at most ``MAX_REPLAYED_REQUESTS``;
    ``left_out`` more matched); ``refused`` of them the proposed policy refuses, ``refused_now``
    the current one.
    """

    since: datetime
    considered: int
    refused: int
    refused_now: int
    left_out: int = 0


@attrs.frozen
class PolicyImpact:
    """Everything the preview shows about one proposed change of a team's settings."""

    team: Team
    proposed: TeamSettings
    enforcement: WebhookEnforcement
    live_runners: int
    runners: tuple[RunnerImpact, ...]
    requests: RequestReplay

    @property
    def idle(self) -> tuple[RunnerImpact, ...]:
        """The refused runners that may be removed now."""
        return tuple(impact for impact in self.runners if impact.idle)

    @property
    def over_quota(self) -> int:
        """How many live runners exceed a lowered quota (they stay; only new ones are blocked)."""
        limit = self.proposed.max_runners
        return 0 if limit is None else max(0, self.live_runners - limit)


def proposed_settings(team: Team, command: UpdateTeam) -> TeamSettings:
    """Return the team's settings with ``command`` applied; ``InvalidPolicy`` if they are bad.

    The same validation as :meth:`TeamAdminService.update_team`, so a preview fails exactly
    where the save would.
    """
    return build_settings(
        required_labels=given(command.required_labels, team.policy.required_labels),
        optional_label_patterns=given(
            command.optional_label_patterns, team.policy.optional_label_patterns
        ),
        allowed_runner_group_ids=given(
            command.allowed_runner_group_ids, team.allowed_runner_group_ids
        ),
        default_runner_group_id=given(
            command.default_runner_group_id, team.default_runner_group_id
        ),
        max_runners=given(command.max_runners, team.max_runners),
    )


def _action(runner: RunnerRecord, enforcement: WebhookEnforcement) -> RunnerAction:
    if runner.status is RunnerStatus.BUSY:
        return RunnerAction.FINISHES_CURRENT_JOB
    if enforcement is WebhookEnforcement.ENFORCE:
        return RunnerAction.NEXT_JOB_CANCELLED
    return RunnerAction.NEXT_JOB_AUDITED


def runner_impacts(
    policy: LabelPolicy, runners: Iterable[RunnerRecord], enforcement: WebhookEnforcement
) -> tuple[RunnerImpact, ...]:
    """Return the live runners whose provisioned labels ``policy`` refuses, oldest first.

    The labels are judged as the webhook re-check judges them: all of them, the ones gharts
    added as required included, so a required label the policy drops counts as refused.
    """
    impacts = []
    for runner in runners:
        if not runner.status.is_live:
            continue
        decision = evaluate_labels(policy, runner.labels)
        if not decision.allowed:
            impacts.append(RunnerImpact(runner, decision.violations, _action(runner, enforcement)))
    return tuple(sorted(impacts, key=lambda i: (i.runner.created_at, i.runner.name)))


def _asked_for(row: AuditEvent, current: LabelPolicy) -> list[str] | None:
    """Return the labels a provisioning row's request asked for, or ``None`` if it has none."""
    labels = row.details.get("labels")
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        return None
    if row.outcome is AuditOutcome.DENIED:
        return labels  # the request as it was sent
    added = set(current.required_labels)
    return [label for label in labels if label not in added]


def replay_requests(
    rows: Sequence[AuditEvent],
    current: LabelPolicy,
    proposed: LabelPolicy,
    *,
    since: datetime,
    left_out: int = 0,
) -> RequestReplay:
    """Judge the provisioning requests recorded in ``rows`` under both policies, by label."""
    # Clients send the same few label sets again and again: judge each distinct one once.
    asked = Counter(
        tuple(sorted(labels)) for row in rows if (labels := _asked_for(row, current)) is not None
    )
    refused = sum(n for labels, n in asked.items() if not evaluate_labels(proposed, labels).allowed)
    refused_now = sum(
        n for labels, n in asked.items() if not evaluate_labels(current, labels).allowed
    )
    return RequestReplay(since, asked.total(), refused, refused_now, left_out)


class PolicyImpactService:
    """Preview a team settings change for an admin; nothing is written."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        enforcement: WebhookEnforcement = WebhookEnforcement.AUDIT,
    ) -> None:
        """``enforcement`` is the webhook re-check's mode (``sync.webhook_enforcement``)."""
        self._store = store
        self._clock = clock
        self._enforcement = enforcement

    async def preview(self, principal: Principal, name: str, command: UpdateTeam) -> PolicyImpact:
        """Return what saving ``command`` on team ``name`` would do.

        ``AdminRequired`` for non-admins, ``TeamNotFound``, and ``InvalidPolicy`` naming every
        problem, as the save would raise.
        """
        await require_admin(self._store, self._clock, principal, "team.preview")
        since = self._clock.now() - REQUEST_WINDOW
        async with self._store.unit_of_work(read_only=True) as uow:
            team = await team_by_name(uow, name)
            settings = proposed_settings(team, command)
            runners = await _live_runners(uow, team)
            rows, left_out = await _provision_rows(uow, team, since)
        return PolicyImpact(
            team=team,
            proposed=settings,
            enforcement=self._enforcement,
            live_runners=len(runners),
            runners=runner_impacts(settings.policy, runners, self._enforcement),
            requests=replay_requests(
                rows, team.policy, settings.policy, since=since, left_out=left_out
            ),
        )


async def _live_runners(uow: UnitOfWork, team: Team) -> list[RunnerRecord]:
    query = RunnerFilter(team_ids=frozenset({team.id}), include_deleted=False)
    found: list[RunnerRecord] = []
    while True:
        result = await uow.runners.list(query, Page(limit=MAX_PAGE_SIZE, offset=len(found)))
        found.extend(result.items)
        if not result.items or len(found) >= result.total:
            return found


async def _provision_rows(
    uow: UnitOfWork, team: Team, since: datetime
) -> tuple[Sequence[AuditEvent], int]:
    query = AuditFilter(action=AuditAction.RUNNER_PROVISION.value, team_id=team.id, since=since)
    rows = await uow.audit.newest(query, MAX_REPLAYED_REQUESTS + 1)
    if len(rows) <= MAX_REPLAYED_REQUESTS:
        return rows, 0
    total = (await uow.audit.list(query, Page(limit=1))).total
    return rows[:MAX_REPLAYED_REQUESTS], total - MAX_REPLAYED_REQUESTS
