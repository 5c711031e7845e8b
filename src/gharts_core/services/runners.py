"""Runner use cases for callers: list, get, refresh from GitHub, deprovision.

Visibility is one rule for all four (:func:`gharts_core.authz.can_see_runner`): a runner the caller
may not see is reported exactly like a runner that does not exist. Listing pushes the visible team
ids into the store's filter, so filtering and paging happen in the database.

Deprovisioning is idempotent: deleting a runner that is already ``deleted`` returns it unchanged,
so a client retrying after a lost response gets the same answer instead of a 404. A runner GitHub
no longer has counts as removed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from gharts_core import authz
from gharts_core.drift import same_name
from gharts_core.errors import GhartsError, RunnerNotFound
from gharts_core.model import (
    AuditAction,
    AuditOutcome,
    ObservedRunner,
    Principal,
    RunnerRecord,
    RunnerStatus,
    RunnerTransition,
    TransitionSource,
)
from gharts_core.policy import normalize_label
from gharts_core.ports.clock import Clock
from gharts_core.ports.github import RunnerPlatform
from gharts_core.ports.storage import Page, PageResult, RunnerFilter, Store, UnitOfWork
from gharts_core.services._events import audit_event
from gharts_core.services._runner_state import DEPROVISIONED, VANISHED, move, observed_status

__all__ = ["RunnerQuery", "RunnerRefreshed", "RunnerService"]

_API = TransitionSource.API
_FAILURE = AuditOutcome.FAILURE


@attrs.frozen(kw_only=True)
class RunnerQuery:
    """The filters of ``GET /api/v1/runners``; every one is optional."""

    status: RunnerStatus | None = None
    team_name: str | None = None
    label: str | None = None
    include_deleted: bool = True


@attrs.frozen(kw_only=True)
class RunnerRefreshed:
    """A runner after a refresh, with what GitHub reported (``None``: GitHub has no such runner)."""

    runner: RunnerRecord
    observed: ObservedRunner | None


class RunnerService:
    """List, read, refresh and deprovision the runners a principal may see."""

    def __init__(self, store: Store, github: RunnerPlatform, clock: Clock) -> None:
        self._store = store
        self._github = github
        self._clock = clock

    async def list(
        self, principal: Principal, query: RunnerQuery | None = None, page: Page | None = None
    ) -> PageResult[RunnerRecord]:
        """Return one page of the runners the principal may see, newest first."""
        query = query or RunnerQuery()
        runner_filter = RunnerFilter(
            team_ids=authz.visible_team_ids(principal),
            status=query.status,
            team_name=query.team_name,
            label=None if query.label is None else normalize_label(query.label),
            include_deleted=query.include_deleted,
        )
        async with self._store.unit_of_work(read_only=True) as uow:
            return await uow.runners.list(runner_filter, page or Page())

    async def get(self, principal: Principal, runner_id: uuid.UUID) -> RunnerRecord:
        """Return one runner; raise ``RunnerNotFound`` when it is missing or not visible."""
        async with self._store.unit_of_work(read_only=True) as uow:
            runner = await uow.runners.get(runner_id)
        if runner is None or not authz.can_see_runner(principal, runner):
            raise RunnerNotFound(str(runner_id))
        return runner

    async def refresh(self, principal: Principal, runner_id: uuid.UUID) -> RunnerRefreshed:
        """Re-read the runner from GitHub now and record what changed (source ``api``).

        A runner GitHub no longer knows becomes ``deleted``; one never seen by GitHub (a
        registration-token runner not configured yet) stays as it is. A deleted runner is
        returned unchanged, without asking GitHub.
        """
        runner = await self._visible(principal, runner_id, AuditAction.RUNNER_REFRESH)
        if runner.status is RunnerStatus.DELETED:
            return RunnerRefreshed(runner=runner, observed=None)
        try:
            observed = await self._observe(runner)
        except Exception as error:
            await self._audit(
                principal, AuditAction.RUNNER_REFRESH, runner, _failed(error), AuditOutcome.FAILURE
            )
            raise
        now = self._clock.now()
        async with self._store.unit_of_work() as uow:
            current = await uow.runners.get(runner.id) or runner
            updated, transition = _refreshed(current, observed, now)
            if updated != current and not await uow.runners.advance(current, updated, transition):
                # Moved meanwhile (deleted, say): what GitHub said then is stale; keep theirs.
                updated = await uow.runners.get(runner.id) or current
            details = {"from_status": current.status.value, "to_status": updated.status.value}
            await self._append_audit(
                uow, principal, AuditAction.RUNNER_REFRESH, updated, details=details
            )
        return RunnerRefreshed(runner=updated, observed=observed)

    async def deprovision(self, principal: Principal, runner_id: uuid.UUID) -> RunnerRecord:
        """Remove the runner from GitHub, then mark it ``deleted`` (reason ``deprovisioned``).

        Idempotent: an already deleted runner is returned unchanged. GitHub errors leave the
        record untouched and propagate.
        """
        action = AuditAction.RUNNER_DEPROVISION
        runner = await self._visible(principal, runner_id, action)
        if runner.status is RunnerStatus.DELETED:
            await self._audit(principal, action, runner, {"already_deleted": True})
            return runner
        try:
            removed = await self._remove_from_github(runner)
        except Exception as error:
            await self._audit(principal, action, runner, _failed(error), _FAILURE)
            raise
        now = self._clock.now()
        async with self._store.unit_of_work() as uow:
            current = await uow.runners.get(runner.id) or runner
            deleted = current
            # Compare-and-set: a concurrent writer moving it meanwhile makes us read it again.
            while deleted.status is not RunnerStatus.DELETED:
                current = deleted
                deleted, transition = move(
                    current, RunnerStatus.DELETED, at=now, source=_API, reason=DEPROVISIONED
                )
                if not await uow.runners.advance(current, deleted, transition):
                    deleted = await uow.runners.get(runner.id) or current
                    if deleted.status is RunnerStatus.DELETED:
                        return deleted
            details = {"removed_from_github": removed}
            await self._append_audit(uow, principal, action, deleted, details=details)
        return deleted

    async def _visible(
        self, principal: Principal, runner_id: uuid.UUID, action: AuditAction
    ) -> RunnerRecord:
        async with self._store.unit_of_work() as uow:
            runner = await uow.runners.get(runner_id)
            hidden = runner is not None and not authz.can_see_runner(principal, runner)
            if runner is not None and hidden:
                # Audited for the runner's team; the caller still learns nothing.
                details = {"error_code": RunnerNotFound.code.value}
                await self._append_audit(
                    uow, principal, action, runner, outcome=AuditOutcome.DENIED, details=details
                )
        if runner is None or hidden:
            raise RunnerNotFound(str(runner_id))
        return runner

    async def _observe(self, runner: RunnerRecord) -> ObservedRunner | None:
        """Return the runner as GitHub has it; a runner under a reused id is not this one."""
        if runner.github_runner_id is not None:
            observed = await self._github.get_runner(runner.github_runner_id)
            if observed is None or not same_name(observed.name, runner.name):
                return None
            return observed
        return _by_name(await self._github.list_runners(), runner.name)

    async def _remove_from_github(self, runner: RunnerRecord) -> bool:
        # Asked first, by id and name: a reused GitHub id belongs to somebody else's runner.
        observed = await self._observe(runner)
        if observed is None:
            return False
        return await self._github.delete_runner(observed.id)

    async def _audit(
        self,
        principal: Principal,
        action: AuditAction,
        runner: RunnerRecord,
        details: Mapping[str, Any],
        outcome: AuditOutcome = AuditOutcome.SUCCESS,
    ) -> None:
        async with self._store.unit_of_work() as uow:
            await self._append_audit(
                uow, principal, action, runner, outcome=outcome, details=details
            )

    async def _append_audit(
        self,
        uow: UnitOfWork,
        principal: Principal,
        action: AuditAction,
        runner: RunnerRecord,
        *,
        outcome: AuditOutcome = AuditOutcome.SUCCESS,
        details: Mapping[str, Any],
    ) -> None:
        team = await uow.teams.get(runner.team_id)
        await uow.audit.append(
            audit_event(
                self._clock,
                principal.actor,
                action,
                target_type="runner",
                target_id=runner.id,
                outcome=outcome,
                team=team,
                details={"runner_name": runner.name, **details},
            )
        )


def _failed(error: Exception) -> Mapping[str, Any]:
    code = error.code.value if isinstance(error, GhartsError) else type(error).__name__
    return {"error": code}


def _by_name(runners: Sequence[ObservedRunner], name: str) -> ObservedRunner | None:
    folded = name.lower()
    return next((runner for runner in runners if runner.name.lower() == folded), None)


def _refreshed(
    current: RunnerRecord, observed: ObservedRunner | None, now: datetime
) -> tuple[RunnerRecord, RunnerTransition | None]:
    if current.status is RunnerStatus.DELETED:
        return current, None
    if observed is None:
        if current.github_runner_id is None:
            return current, None  # not registered with GitHub yet
        return move(current, RunnerStatus.DELETED, at=now, source=_API, reason=VANISHED)
    updated = current
    if current.github_runner_id != observed.id:
        updated = attrs.evolve(current, github_runner_id=observed.id, updated_at=now)
    status = observed_status(current.status, observed)
    if status is current.status:
        return updated, None
    return move(updated, status, at=now, source=_API)
