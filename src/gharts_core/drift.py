"""The drift detector: runner records and what GitHub reports in, actions out, nothing executed.

:func:`detect_drift` pairs each live record with the GitHub runner it describes and returns what
the sync worker must do so that the database matches GitHub and every runner carries exactly the
labels it was provisioned with. A record that
already matches GitHub produces no action, so a quiet cycle writes nothing. The work is linear in
the number of runners: dictionary look-ups, no pairwise comparison.

A record and a GitHub runner are the same runner only when the GitHub id the record is bound to
and the runner's name both match (names case-insensitively, as GitHub compares them): github.com
never reuses runner ids, but a GHES restore, a database pointed at another scope or the dev
simulator do, and a runner with a reused id is somebody else's. A record not yet bound to an id
is paired by name with a runner no bound record claimed.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import ClassVar

import attrs

from gharts_core.model import ObservedRunner, RunnerRecord, RunnerStatus


class StuckProvisioningAction(enum.StrEnum):
    """What to do with a ``provisioning`` row whose runner GitHub has (the crash happened late)."""

    ADOPT = "adopt"
    REMOVE = "remove"


class DeletionReason(enum.StrEnum):
    """Why the sync worker retired a runner (stored as the record's ``deleted_reason``)."""

    VANISHED = "vanished_from_github"
    PENDING_EXPIRED = "pending_expired"
    STUCK_PROVISIONING = "stuck_provisioning"
    LABEL_DRIFT = "label_drift"
    OFFLINE_EXPIRED = "offline_expired"


class ActionKind(enum.StrEnum):
    """The kinds of action, as counted in sync reports and metrics."""

    BIND_GITHUB_ID = "bind_github_id"
    CHANGE_STATUS = "change_status"
    MARK_DELETED = "mark_deleted"
    REMOVE_DRIFTED_RUNNER = "remove_drifted_runner"
    REPORT_BUSY_DRIFT = "report_busy_drift"
    ADOPT_STUCK_RUNNER = "adopt_stuck_runner"
    REMOVE_STUCK_RUNNER = "remove_stuck_runner"
    REMOVE_EXPIRED_RUNNER = "remove_expired_runner"
    REMOVE_OFFLINE_RUNNER = "remove_offline_runner"


@attrs.frozen
class DriftSettings:
    """How the detector judges runners.

    ``pending_ttl`` is how long a ``pending`` runner may go unseen online (counted from its
    creation); ``provisioning_grace`` is how old a ``provisioning`` row must be before it counts as
    stuck (younger ones may still be waiting for GitHub's answer); ``offline_ttl`` is how long a
    runner may stay ``offline`` (counted from its last change) before it is removed and frees its
    quota slot (``None``: never).
    """

    pending_ttl: timedelta = attrs.field(
        default=timedelta(hours=1), validator=attrs.validators.gt(timedelta(0))
    )
    provisioning_grace: timedelta = attrs.field(
        default=timedelta(minutes=2), validator=attrs.validators.gt(timedelta(0))
    )
    offline_ttl: timedelta | None = attrs.field(default=timedelta(days=1))
    delete_busy_drifted: bool = False
    stuck_provisioning_action: StuckProvisioningAction = StuckProvisioningAction.REMOVE

    @offline_ttl.validator
    def _check_offline_ttl(self, _attribute: object, value: timedelta | None) -> None:
        if value is not None and value <= timedelta(0):
            raise ValueError("offline_ttl must be positive (or None: never)")


def _retire(record: RunnerRecord, reason: DeletionReason, now: datetime) -> RunnerRecord:
    return attrs.evolve(
        record,
        status=RunnerStatus.DELETED,
        deleted_at=now,
        deleted_reason=reason.value,
        updated_at=now,
    )


@attrs.frozen
class BindGitHubId:
    """Store the GitHub id of a runner that was matched by name."""

    kind: ClassVar[ActionKind] = ActionKind.BIND_GITHUB_ID
    runner: RunnerRecord
    github_runner_id: int

    def apply(self, record: RunnerRecord, now: datetime) -> RunnerRecord:
        """Return ``record`` bound to the GitHub runner."""
        return attrs.evolve(record, github_runner_id=self.github_runner_id, updated_at=now)


@attrs.frozen
class ChangeStatus:
    """Move a runner to the status GitHub reports."""

    kind: ClassVar[ActionKind] = ActionKind.CHANGE_STATUS
    runner: RunnerRecord
    status: RunnerStatus

    def apply(self, record: RunnerRecord, now: datetime) -> RunnerRecord:
        """Return ``record`` in the new status."""
        return attrs.evolve(record, status=self.status, updated_at=now)


@attrs.frozen
class MarkDeleted:
    """Retire a runner GitHub does not have (nothing to remove there)."""

    kind: ClassVar[ActionKind] = ActionKind.MARK_DELETED
    runner: RunnerRecord
    reason: DeletionReason

    def apply(self, record: RunnerRecord, now: datetime) -> RunnerRecord:
        """Return ``record`` deleted for this reason."""
        return _retire(record, self.reason, now)


@attrs.frozen
class RemoveDriftedRunner:
    """Delete a runner whose custom labels drifted on GitHub, then retire its record."""

    kind: ClassVar[ActionKind] = ActionKind.REMOVE_DRIFTED_RUNNER
    reason: ClassVar[DeletionReason] = DeletionReason.LABEL_DRIFT
    runner: RunnerRecord
    github_runner_id: int
    expected_labels: tuple[str, ...]
    observed_labels: tuple[str, ...]
    busy: bool = False

    def apply(self, record: RunnerRecord, now: datetime) -> RunnerRecord:
        """Return ``record`` deleted for label drift."""
        return _retire(record, self.reason, now)


@attrs.frozen
class ReportBusyDrift:
    """Report a busy runner whose labels drifted; it is left running its job."""

    kind: ClassVar[ActionKind] = ActionKind.REPORT_BUSY_DRIFT
    runner: RunnerRecord
    github_runner_id: int
    expected_labels: tuple[str, ...]
    observed_labels: tuple[str, ...]

    def apply(self, record: RunnerRecord, now: datetime) -> RunnerRecord:  # noqa: ARG002
        """Return ``record`` unchanged: a report changes no state."""
        return record


@attrs.frozen
class AdoptStuckRunner:
    """Keep a stuck ``provisioning`` row whose runner GitHub has: bind it and take its status."""

    kind: ClassVar[ActionKind] = ActionKind.ADOPT_STUCK_RUNNER
    runner: RunnerRecord
    github_runner_id: int
    status: RunnerStatus

    def apply(self, record: RunnerRecord, now: datetime) -> RunnerRecord:
        """Return ``record`` bound to the GitHub runner, in its status."""
        return attrs.evolve(
            record, github_runner_id=self.github_runner_id, status=self.status, updated_at=now
        )


@attrs.frozen
class RemoveStuckRunner:
    """Delete the GitHub runner of a stuck ``provisioning`` row, then retire the row."""

    kind: ClassVar[ActionKind] = ActionKind.REMOVE_STUCK_RUNNER
    reason: ClassVar[DeletionReason] = DeletionReason.STUCK_PROVISIONING
    runner: RunnerRecord
    github_runner_id: int

    def apply(self, record: RunnerRecord, now: datetime) -> RunnerRecord:
        """Return ``record`` deleted as stuck in provisioning."""
        return _retire(record, self.reason, now)


@attrs.frozen
class RemoveExpiredRunner:
    """Delete a ``pending`` runner GitHub has but never saw online within the TTL."""

    kind: ClassVar[ActionKind] = ActionKind.REMOVE_EXPIRED_RUNNER
    reason: ClassVar[DeletionReason] = DeletionReason.PENDING_EXPIRED
    runner: RunnerRecord
    github_runner_id: int

    def apply(self, record: RunnerRecord, now: datetime) -> RunnerRecord:
        """Return ``record`` deleted as expired."""
        return _retire(record, self.reason, now)


@attrs.frozen
class RemoveOfflineRunner:
    """Delete a runner that stayed ``offline`` longer than the offline TTL, then retire it."""

    kind: ClassVar[ActionKind] = ActionKind.REMOVE_OFFLINE_RUNNER
    reason: ClassVar[DeletionReason] = DeletionReason.OFFLINE_EXPIRED
    runner: RunnerRecord
    github_runner_id: int

    def apply(self, record: RunnerRecord, now: datetime) -> RunnerRecord:
        """Return ``record`` deleted as offline too long."""
        return _retire(record, self.reason, now)


DriftAction = (
    BindGitHubId
    | ChangeStatus
    | MarkDeleted
    | RemoveDriftedRunner
    | ReportBusyDrift
    | AdoptStuckRunner
    | RemoveStuckRunner
    | RemoveExpiredRunner
    | RemoveOfflineRunner
)
GitHubRemoval = RemoveDriftedRunner | RemoveStuckRunner | RemoveExpiredRunner | RemoveOfflineRunner


@attrs.frozen
class DriftResult:
    """The detector's answer: actions in a stable order and what GitHub reported."""

    actions: tuple[DriftAction, ...]
    observed: int
    unmanaged: int

    def counts(self) -> dict[str, int]:
        """Return how many actions of each kind there are (kinds without actions omitted)."""
        counts: dict[str, int] = {}
        for action in self.actions:
            counts[action.kind.value] = counts.get(action.kind.value, 0) + 1
        return counts


def github_status(runner: ObservedRunner) -> RunnerStatus:
    """Map GitHub's status and busy flag to ours: online+busy is busy, online is online."""
    if runner.status.lower() != "online":
        return RunnerStatus.OFFLINE
    return RunnerStatus.BUSY if runner.busy else RunnerStatus.ONLINE


def same_name(a: str, b: str) -> bool:
    """Whether two runner names are the same on GitHub (names compare case-insensitively)."""
    return a.lower() == b.lower()


def detect_drift(
    records: Iterable[RunnerRecord],
    observed: Iterable[ObservedRunner],
    settings: DriftSettings,
    now: datetime,
) -> DriftResult:
    """Return the actions that reconcile the live ``records`` with the runners GitHub reports.

    Actions come grouped by runner, runners ordered by name then id, and within a runner in the
    order they must be applied. Deleted records in the input are ignored.
    """
    ordered = sorted((r for r in records if r.status.is_live), key=lambda r: (r.name, str(r.id)))
    by_id = {runner.id: runner for runner in observed}
    matches: dict[int, ObservedRunner | None] = {}
    claimed: set[int] = set()
    for index, record in enumerate(ordered):
        if record.github_runner_id is not None:
            match = by_id.get(record.github_runner_id)
            if match is not None and not same_name(match.name, record.name):
                match = None  # a reused id: that runner is not the one this record describes
            matches[index] = match
            if match is not None:
                claimed.add(match.id)
    # GitHub runner names are unique per scope, case-insensitively.
    by_name = {r.name.lower(): r for r in by_id.values() if r.id not in claimed}
    for index, record in enumerate(ordered):
        if record.github_runner_id is None:
            match = by_name.pop(record.name.lower(), None)
            matches[index] = match
            if match is not None:
                claimed.add(match.id)
    actions: list[DriftAction] = []
    for index, record in enumerate(ordered):
        actions.extend(_judge(record, matches[index], settings, now))
    return DriftResult(
        actions=tuple(actions), observed=len(by_id), unmanaged=len(by_id) - len(claimed)
    )


def _judge(
    record: RunnerRecord, match: ObservedRunner | None, settings: DriftSettings, now: datetime
) -> list[DriftAction]:
    age = now - record.created_at
    if record.status is RunnerStatus.PROVISIONING:
        return [] if age < settings.provisioning_grace else _resolve_stuck(record, match, settings)
    if match is None:
        return _resolve_missing(record, age, settings)
    return _reconcile(record, match, age, settings, now)


def _resolve_missing(
    record: RunnerRecord, age: timedelta, settings: DriftSettings
) -> list[DriftAction]:
    if record.status is not RunnerStatus.PENDING:
        return [MarkDeleted(record, DeletionReason.VANISHED)]
    if age < settings.pending_ttl:
        return []
    return [MarkDeleted(record, DeletionReason.PENDING_EXPIRED)]


def _reconcile(
    record: RunnerRecord,
    match: ObservedRunner,
    age: timedelta,
    settings: DriftSettings,
    now: datetime,
) -> list[DriftAction]:
    actions: list[DriftAction] = []
    if record.github_runner_id is None:
        actions.append(BindGitHubId(record, match.id))
    drift = _label_drift(record, match, settings)
    if isinstance(drift, RemoveDriftedRunner):
        return [*actions, drift]
    status = github_status(match)
    if record.status is RunnerStatus.PENDING and status is RunnerStatus.OFFLINE:
        # A JIT runner exists on GitHub, offline, from the moment its config is issued: it is
        # still pending until it first connects.
        if age >= settings.pending_ttl:
            actions.append(RemoveExpiredRunner(record, match.id))
    elif status is RunnerStatus.OFFLINE is record.status:
        # Offline since its last change: an offline runner still holds its quota slot.
        ttl = settings.offline_ttl
        if ttl is not None and now - record.updated_at >= ttl:
            actions.append(RemoveOfflineRunner(record, match.id))
    elif status is not record.status:
        actions.append(ChangeStatus(record, status))
    if drift is not None:
        actions.append(drift)
    return actions


def _resolve_stuck(
    record: RunnerRecord, match: ObservedRunner | None, settings: DriftSettings
) -> list[DriftAction]:
    if match is None:
        return [MarkDeleted(record, DeletionReason.STUCK_PROVISIONING)]
    if settings.stuck_provisioning_action is StuckProvisioningAction.REMOVE:
        return [RemoveStuckRunner(record, match.id)]
    status = github_status(match)
    # Never seen online by gharts: an offline runner is adopted as pending, so the TTL applies.
    adopted = RunnerStatus.PENDING if status is RunnerStatus.OFFLINE else status
    actions: list[DriftAction] = [AdoptStuckRunner(record, match.id, adopted)]
    drift = _label_drift(record, match, settings)
    if drift is not None:
        actions.append(drift)
    return actions


def _label_drift(
    record: RunnerRecord, match: ObservedRunner, settings: DriftSettings
) -> RemoveDriftedRunner | ReportBusyDrift | None:
    observed = match.custom_labels
    expected = frozenset(label.lower() for label in record.labels)
    if observed == expected:
        return None
    busy = github_status(match) is RunnerStatus.BUSY
    if busy and not settings.delete_busy_drifted:
        return ReportBusyDrift(record, match.id, tuple(sorted(expected)), tuple(sorted(observed)))
    return RemoveDriftedRunner(
        record, match.id, tuple(sorted(expected)), tuple(sorted(observed)), busy=busy
    )
