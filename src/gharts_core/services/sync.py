"""The sync use case: one reconciliation cycle between the runner records and GitHub.

A cycle reads every GitHub page once, loads the live records in one unit of work, asks the pure
drift detector what to do, and applies its actions runner by runner: the GitHub deletion first,
outside any transaction, then one unit of work per runner that re-reads the record and writes only
if nobody changed it meanwhile. A runner whose record already matches GitHub costs nothing, so a
quiet cycle writes only its own report.

Failures: a failed GitHub deletion or storage write for one runner is recorded in the report's
``errors`` and the cycle goes on; the next cycle retries, since actions are derived afresh each
time. Once GitHub rate-limits a deletion, the cycle's remaining deletions are skipped. When
listing GitHub's runners fails, the cycle is recorded with that error and the
:class:`~gharts_core.errors.GitHubError` is re-raised, for the worker to log and the trigger
endpoint to answer with.

Stuck reservations: a ``provisioning`` row is resolved against GitHub by name (adopted, removed
or retired) once older than ``provisioning_grace``. A process's first cycle uses
``first_cycle_provisioning_grace`` instead when shorter: the longest a GitHub call creating a
runner can take: a row older than that is in flight in no replica, so a restarted worker frees
the slots a crash left after that bound, even when the configured grace is longer.

Leadership: the worker that runs a cycle passes its name as ``leader``; the report is saved with
that name and the time as the heartbeat, in the same write. It also passes a ``fence``, asked
before every action (each runner's GitHub removal and write) and before the report: a worker that
lost leadership mid-cycle (its lock connection cut) stops before its next action with
:class:`LeadershipLost`, so two workers never apply actions at the same time. :meth:`resign`
clears the name at a graceful shutdown. The admin operations (:meth:`admin_status`,
:meth:`check_trigger`, :meth:`record_trigger`) need an admin principal.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

import attrs
import structlog

from gharts_core.drift import (
    DriftAction,
    DriftSettings,
    GitHubRemoval,
    RemoveDriftedRunner,
    RemoveExpiredRunner,
    RemoveOfflineRunner,
    RemoveStuckRunner,
    ReportBusyDrift,
    detect_drift,
)
from gharts_core.errors import Conflict, GhartsError, GitHubError, GitHubRateLimited
from gharts_core.model import (
    Principal,
    RunnerRecord,
    RunnerTransition,
    SyncReport,
    SyncState,
    Team,
    TransitionSource,
)
from gharts_core.ports.clock import Clock
from gharts_core.ports.github import ListedPage, RunnerPlatform
from gharts_core.ports.storage import Store, UnitOfWork
from gharts_core.services._lookups import require_admin
from gharts_core.services._sync_records import (
    TriggerOutcome,
    audit_row,
    drift_event,
    purge_row,
    transition_reason,
    trigger_row,
)

__all__ = ["Fence", "LeadershipLost", "SyncService", "SyncSettings", "TriggerOutcome"]

Fence = Callable[[], Awaitable[bool]]
"""Whether the caller still leads, asked before each action of a cycle."""

_log = structlog.get_logger(__name__)

_REMOVALS = (RemoveDriftedRunner, RemoveStuckRunner, RemoveExpiredRunner, RemoveOfflineRunner)
_DRIFT = (RemoveDriftedRunner, ReportBusyDrift)
_DriftKey = tuple[uuid.UUID, tuple[str, ...]]
_SKIPPED = "skipped: GitHub rate limit reached earlier in this cycle"


@attrs.frozen
class SyncSettings:
    """What the sync worker reconciles, and how long it keeps audit rows and webhook ids.

    Retention is in days, so expired rows are purged at most once per ``purge_interval`` (and on
    a process's first cycle): a quiet cycle then writes only its report.
    """

    drift: DriftSettings = attrs.field(factory=DriftSettings)
    audit_retention_days: int = attrs.field(default=365, validator=attrs.validators.gt(0))
    webhook_delivery_retention: timedelta = attrs.field(
        default=timedelta(days=7), validator=attrs.validators.gt(timedelta(0))
    )
    purge_interval: timedelta = attrs.field(
        default=timedelta(hours=1), validator=attrs.validators.ge(timedelta(0))
    )
    #: The longest a GitHub call creating a runner can take (``None``: unknown). A process's
    #: first cycle resolves every ``provisioning`` row older than this (or than the grace, if
    #: shorter): such a row is in flight nowhere, so it was left by a crash or an unknown outcome.
    first_cycle_provisioning_grace: timedelta | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(attrs.validators.gt(timedelta(0))),
    )


class LeadershipLost(Conflict):
    """The worker running a cycle no longer leads; the cycle stopped before its next action."""

    def __init__(self, leader: str | None) -> None:
        super().__init__(f"Worker {leader or '(unnamed)'} lost leadership; its cycle stopped.")


async def _always() -> bool:
    return True


@attrs.define
class _Cycle:
    """What the running cycle has done so far."""

    started_at: datetime
    leader: str | None
    fence: Fence = _always
    counts: Counter[str] = attrs.Factory(Counter)
    errors: list[str] = attrs.Factory(list)
    rate_limited: bool = False


class SyncService:
    """Reconciles runner records with GitHub, one cycle at a time."""

    def __init__(
        self,
        store: Store,
        github: RunnerPlatform,
        clock: Clock,
        settings: SyncSettings | None = None,
    ) -> None:
        self._store = store
        self._github = github
        self._clock = clock
        self._settings = settings or SyncSettings()
        # Drift this process has recorded, so that a runner which stays drifted (busy, or failing
        # to be removed) is not reported again every cycle. A restarted worker reports it once more.
        self._reported: set[_DriftKey] = set()
        self._teams: dict[uuid.UUID, Team | None] = {}
        self._purged_at: datetime | None = None
        # (url, etag) of the listing's pages as the store keeps them; None until read once, so a
        # restarted worker sends the ETags the last cycle saw and unchanged pages cost a 304.
        self._kept_pages: tuple[tuple[str, str], ...] | None = None
        self._first_cycle = True

    async def status(self) -> SyncState:
        """Return the shared sync state: leader, heartbeat, last report, number of cycles."""
        async with self._store.unit_of_work(read_only=True) as uow:
            return await uow.sync_state.get()

    async def admin_status(self, principal: Principal) -> SyncState:
        """Return the shared sync state to an admin; ``AdminRequired`` for anyone else."""
        await require_admin(self._store, self._clock, principal, "sync.status")
        return await self.status()

    async def check_trigger(self, principal: Principal) -> None:
        """Raise ``AdminRequired`` (recorded as a security event) unless an admin asks."""
        await require_admin(self._store, self._clock, principal, "sync.trigger")

    async def record_trigger(
        self, principal: Principal, outcome: TriggerOutcome, report: SyncReport | None = None
    ) -> None:
        """Audit an admin's request for a cycle and what became of it."""
        async with self._store.unit_of_work() as uow:
            await uow.audit.append(trigger_row(self._clock, principal, outcome, report))

    async def resign(self, leader: str) -> None:
        """Clear the recorded leader if it is still ``leader`` (a worker shutting down)."""
        async with self._store.unit_of_work() as uow:
            state = await uow.sync_state.get()
            if state.leader == leader:
                await uow.sync_state.save(attrs.evolve(state, leader=None))

    async def run_cycle(
        self, *, leader: str | None = None, fence: Fence | None = None
    ) -> SyncReport:
        """Reconcile every live runner with GitHub once, record the report and return it.

        ``leader`` names the worker running the cycle; it is recorded with the report, the
        finish time being its heartbeat. Without it the recorded leader is left as it is. Raise
        the :class:`~gharts_core.errors.GitHubError` of a failed listing, after recording the
        failed cycle. ``fence`` is asked before every action and before the report; when it
        answers ``False`` the cycle stops there and raises :class:`LeadershipLost`.
        """
        cycle = _Cycle(started_at=self._clock.now(), leader=leader, fence=fence or _always)
        await self._recall_pages()
        try:
            observed = await self._github.list_runners()
        except GitHubError as exc:
            cycle.errors.append(f"list runners: {exc.detail}")
            await self._finish(cycle, observed=0, unmanaged=0)
            raise
        async with self._store.unit_of_work(read_only=True) as uow:
            records = await uow.runners.list_live()
        result = detect_drift(records, observed, self._drift_settings(), cycle.started_at)
        self._first_cycle = False
        self._teams.clear()
        for actions in _by_runner(result.actions):
            await self._fenced(cycle)
            await self._reconcile(actions, cycle)
        self._reported &= {_drift_key(a) for a in result.actions if isinstance(a, _DRIFT)}
        return await self._finish(cycle, observed=result.observed, unmanaged=result.unmanaged)

    def _drift_settings(self) -> DriftSettings:
        """Return the detector's settings, with the shorter first-cycle grace on the first cycle."""
        drift, first = self._settings.drift, self._settings.first_cycle_provisioning_grace
        if not self._first_cycle or first is None or first >= drift.provisioning_grace:
            return drift
        return attrs.evolve(drift, provisioning_grace=first)

    async def _recall_pages(self) -> None:
        """Hand GitHub's adapter the pages (and ETags) the store kept, once per process."""
        if self._kept_pages is not None:
            return
        async with self._store.unit_of_work(read_only=True) as uow:
            pages = await uow.sync_state.listed_pages()
        self._github.remember_pages(pages)
        self._kept_pages = _page_etags(pages)

    async def _fenced(self, cycle: _Cycle) -> None:
        """Raise :class:`LeadershipLost` unless the worker running ``cycle`` still leads."""
        if not await cycle.fence():
            _log.warning("sync_cycle_fenced", leader=cycle.leader, actions=dict(cycle.counts))
            raise LeadershipLost(cycle.leader)

    async def _reconcile(self, actions: Sequence[DriftAction], cycle: _Cycle) -> None:
        """Apply one runner's actions, recording rather than raising what fails."""
        runner = actions[0].runner
        removal = next((a for a in actions if isinstance(a, _REMOVALS)), None)
        try:
            if removal is not None and (error := await self._remove(removal, cycle)) is not None:
                cycle.errors.append(
                    f"{removal.kind.value} '{runner.name}' "
                    f"(GitHub runner {removal.github_runner_id}): {error}"
                )
                if error != _SKIPPED:
                    await self._record_failed_removal(removal, error)
                return
            if all(map(self._is_quiet, actions)) or await self._write(actions, removal):
                cycle.counts.update(a.kind.value for a in actions)
        except GhartsError as exc:
            cycle.errors.append(f"store '{runner.name}': {exc.detail}")
            _log.warning("sync_write_failed", runner=runner.name, error=exc.detail)

    async def _remove(self, removal: GitHubRemoval, cycle: _Cycle) -> str | None:
        """Delete the runner on GitHub; return why that failed, or ``None``."""
        if cycle.rate_limited:
            return _SKIPPED
        try:
            await self._github.delete_runner(removal.github_runner_id)
        except GitHubError as exc:
            cycle.rate_limited = isinstance(exc, GitHubRateLimited)
            return exc.detail
        return None

    async def _write(self, actions: Sequence[DriftAction], removal: GitHubRemoval | None) -> bool:
        """Apply one runner's actions in one unit of work; return ``False`` when skipped."""
        loaded = actions[0].runner
        try:
            async with self._store.unit_of_work() as uow:
                current = await uow.runners.get(loaded.id)
                if current != loaded:
                    if current is None or removal is None or not current.status.is_live:
                        _log.info("sync_skipped_changed_runner", runner=loaded.name)
                        return False
                    # Changed meanwhile but gone from GitHub now: retire the record as it is.
                    actions = [attrs.evolve(removal, runner=current)]
                await self._save(uow, actions, await self._team(uow, loaded.team_id))
        except _MovedMeanwhile:
            _log.info("sync_skipped_changed_runner", runner=loaded.name)
            return False
        self._reported.update(_drift_key(a) for a in actions if isinstance(a, _DRIFT))
        return True

    async def _save(
        self, uow: UnitOfWork, actions: Sequence[DriftAction], team: Team | None
    ) -> None:
        """Fold the actions into the record, saving once per status change and once at the end."""
        now = self._clock.now()
        record = saved = actions[0].runner
        for action in actions:
            after = action.apply(record, now)
            if after.status is not record.status:
                transition = RunnerTransition(
                    runner_id=record.id,
                    from_status=record.status,
                    to_status=after.status,
                    source=TransitionSource.SYNC,
                    at=now,
                    reason=transition_reason(action),
                )
                await _advance(uow, saved, after, transition)
                saved = after
            if not self._is_quiet(action):
                await uow.audit.append(audit_row(self._clock, action, record, after, team=team))
                if isinstance(action, _DRIFT):
                    await uow.security_events.append(drift_event(self._clock, action, team))
            record = after
        if record != saved:
            await _advance(uow, saved, record)

    async def _record_failed_removal(self, removal: GitHubRemoval, error: str) -> None:
        """Audit the failed attempt; report a drift the first time its removal fails."""
        runner = removal.runner
        drift = removal if isinstance(removal, RemoveDriftedRunner) else None
        async with self._store.unit_of_work() as uow:
            team = await self._team(uow, runner.team_id)
            row = audit_row(self._clock, removal, runner, runner, team=team, error=error)
            await uow.audit.append(row)
            if drift is not None and not self._was_reported(drift):
                event = drift_event(self._clock, drift, team, error)
                await uow.security_events.append(event)
        if drift is not None:
            self._reported.add(_drift_key(drift))

    def _was_reported(self, action: RemoveDriftedRunner | ReportBusyDrift) -> bool:
        return _drift_key(action) in self._reported

    def _is_quiet(self, action: DriftAction) -> bool:
        """Whether the action needs no write: a busy drift this process already reported."""
        return isinstance(action, ReportBusyDrift) and self._was_reported(action)

    async def _team(self, uow: UnitOfWork, team_id: uuid.UUID) -> Team | None:
        if team_id not in self._teams:
            self._teams[team_id] = await uow.teams.get(team_id)
        return self._teams[team_id]

    def _purge_due(self, now: datetime) -> bool:
        last = self._purged_at
        return last is None or now - last >= self._settings.purge_interval

    async def _finish(self, cycle: _Cycle, *, observed: int, unmanaged: int) -> SyncReport:
        """Purge what retention allows and record the cycle's report in the sync state."""
        await self._fenced(cycle)
        async with self._store.unit_of_work() as uow:
            now = self._clock.now()
            purging = self._purge_due(now)
            purged = deliveries = 0
            if purging:
                cutoff = now - timedelta(days=self._settings.audit_retention_days)
                purged = await uow.audit.purge_before(cutoff)
                deliveries = await uow.webhook_deliveries.purge_before(
                    now - self._settings.webhook_delivery_retention
                )
                if purged:
                    await uow.audit.append(purge_row(self._clock, purged, cutoff))
            report = SyncReport(
                started_at=cycle.started_at,
                finished_at=now,
                observed=observed,
                unmanaged=unmanaged,
                actions=dict(sorted(cycle.counts.items())),
                errors=tuple(cycle.errors),
                purged_audit_rows=purged,
            )
            state = await uow.sync_state.get()
            state = attrs.evolve(state, last_report=report, cycles=state.cycles + 1)
            if cycle.leader is not None:
                state = attrs.evolve(state, leader=cycle.leader, heartbeat_at=now)
            await uow.sync_state.save(state)
            pages = self._github.listed_pages()
            if _page_etags(pages) != self._kept_pages:
                await uow.sync_state.save_listed_pages(pages)
        self._kept_pages = _page_etags(pages)
        if purging:
            self._purged_at = now
        _log.info(
            "sync_cycle",
            observed=observed,
            unmanaged=unmanaged,
            actions=report.actions,
            errors=report.errors,
            purged_audit_rows=purged,
            purged_webhook_deliveries=deliveries,
            duration_seconds=report.duration_seconds,
        )
        return report


class _MovedMeanwhile(Exception):
    """Another writer moved the runner between this cycle's read and its write."""


async def _advance(
    uow: UnitOfWork,
    before: RunnerRecord,
    after: RunnerRecord,
    transition: RunnerTransition | None = None,
) -> None:
    """Write ``after`` only if the runner is still as read; roll the unit of work back if not."""
    if not await uow.runners.advance(before, after, transition):
        raise _MovedMeanwhile


def _drift_key(action: RemoveDriftedRunner | ReportBusyDrift) -> _DriftKey:
    return action.runner.id, action.observed_labels


def _by_runner(actions: Sequence[DriftAction]) -> list[list[DriftAction]]:
    groups: dict[uuid.UUID, list[DriftAction]] = {}
    for action in actions:
        groups.setdefault(action.runner.id, []).append(action)
    return list(groups.values())


def _page_etags(pages: Sequence[ListedPage]) -> tuple[tuple[str, str], ...]:
    return tuple((page.url, page.etag) for page in pages)
