"""Provisioning: check the caller and the team policy, reserve, ask GitHub, bind.

The order makes a crash harmless: the reservation (status ``provisioning``, quota checked, name
unique) is committed before GitHub is called, so every runner GitHub creates has a row. GitHub is
called outside any unit of work. A failure whose outcome is known (GitHub answered 4xx, a rate
limit, a name GitHub already has) marks the reservation deleted, which releases its quota slot
and its name. A JIT call whose outcome is unknown (no answer in time, a dropped connection, a 5xx,
a cancelled request, an unexpected error) may still have created the runner: its reservation
stays ``provisioning``, and the sync worker resolves it against GitHub by name once it is older
than ``provisioning_grace`` (removing or adopting the runner GitHub has), so no runner is left on
GitHub unaccounted for and no name is refused forever. Every write that moves a runner checks
the status it read (a compare-and-set). Neither the JIT configuration nor the registration token is
ever written to the audit log or to logs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

import attrs
import structlog

from gharts_core import authz
from gharts_core.errors import Conflict, GhartsError, GitHubUnavailable
from gharts_core.model import (
    AuditAction,
    AuditEvent,
    AuditOutcome,
    Principal,
    ProvisionMethod,
    RunnerRecord,
    RunnerStatus,
    Team,
    TransitionSource,
    new_id,
)
from gharts_core.policy import LabelDecision, evaluate_labels
from gharts_core.ports.clock import Clock
from gharts_core.ports.github import JitRequest, RunnerPlatform
from gharts_core.ports.storage import Store
from gharts_core.services._events import audit_event
from gharts_core.services._provision_denials import REFUSALS, record_denial
from gharts_core.services._provision_types import (
    JitProvisioned,
    ProvisionJitRunner,
    ProvisionRegistrationToken,
    RegistrationTokenIssued,
    RunnerRequest,
)
from gharts_core.services._runner_requests import choose_team
from gharts_core.services._runner_state import move

__all__ = [
    "JitProvisioned",
    "ProvisionJitRunner",
    "ProvisionRegistrationToken",
    "ProvisioningService",
    "ProvisioningSettings",
    "RegistrationTokenIssued",
]

T = TypeVar("T")

_log = structlog.get_logger(__name__)
_API = TransitionSource.API


def _positive(_instance: object, _attribute: object, value: timedelta) -> None:
    if value <= timedelta(0):
        raise ValueError("pending_ttl must be positive")


@attrs.frozen(kw_only=True)
class ProvisioningSettings:
    """How long an issued runner may stay ``pending`` before the sync worker gives up on it."""

    pending_ttl: timedelta = attrs.field(default=timedelta(hours=1), validator=_positive)


class ProvisioningService:
    """The two provisioning flows: JIT configuration and registration token."""

    def __init__(
        self,
        store: Store,
        github: RunnerPlatform,
        clock: Clock,
        settings: ProvisioningSettings | None = None,
    ) -> None:
        self._store = store
        self._github = github
        self._clock = clock
        self._settings = settings or ProvisioningSettings()

    async def provision_jit(
        self, principal: Principal, command: ProvisionJitRunner
    ) -> JitProvisioned:
        """Check, reserve, ask GitHub for a JIT configuration and bind the runner to it."""
        record, team = await self._reserve(principal, ProvisionMethod.JIT, command)
        request = JitRequest(
            name=record.name,
            runner_group_id=record.runner_group_id,
            labels=record.labels,
            work_folder=command.work_folder,
        )
        config = await self._call_github(
            principal,
            record,
            team,
            lambda: self._github.create_jit_config(request),
            creates_runner=True,
        )
        runner = await self._bind(principal, record, team, config.runner.id)
        return JitProvisioned(
            runner=runner,
            team=team,
            encoded_jit_config=config.encoded_jit_config,
            expires_at=runner.expires_at or self._clock.now() + self._settings.pending_ttl,
        )

    async def provision_registration_token(
        self, principal: Principal, command: ProvisionRegistrationToken
    ) -> RegistrationTokenIssued:
        """Check, reserve, and issue a registration token for one runner of that name."""
        method = ProvisionMethod.REGISTRATION_TOKEN
        record, team = await self._reserve(principal, method, command)
        token = await self._call_github(
            principal, record, team, self._github.create_registration_token
        )
        runner = await self._bind(principal, record, team, None)
        return RegistrationTokenIssued(
            runner=runner,
            team=team,
            token=token.token,
            expires_at=token.expires_at,
            github_url=self._github.registration_url,
        )

    async def _reserve(
        self, principal: Principal, method: ProvisionMethod, command: RunnerRequest
    ) -> tuple[RunnerRecord, Team]:
        team: Team | None = None
        decision: LabelDecision | None = None
        try:
            authz.require_capability(principal, method)
            async with self._store.unit_of_work() as uow:
                team = await choose_team(
                    uow,
                    principal,
                    team_name=command.team_name,
                    team_id=command.team_id,
                    for_update=True,
                )
                decision = evaluate_labels(team.policy, command.labels)
                decision.raise_if_refused()
                group = authz.resolve_runner_group(team, command.runner_group_id)
                now = self._clock.now()
                record = RunnerRecord(
                    id=new_id(),
                    name=command.choose_name(),
                    team_id=team.id,
                    team_name=team.name,
                    labels=decision.labels,
                    runner_group_id=group,
                    status=RunnerStatus.PROVISIONING,
                    method=method,
                    created_by=principal.actor,
                    created_at=now,
                    updated_at=now,
                )
                await uow.runners.reserve(record, team.max_runners)
        except REFUSALS as error:
            _about(error, team)
            details = {
                "method": method.value,
                "runner_name": command.requested_name(),
                "labels": list(command.labels),
                "runner_group_id": command.runner_group_id,
                "requested_team": command.team_name or _str_or_none(command.team_id),
            }
            await record_denial(
                self._store,
                self._clock,
                principal,
                team=team,
                error=error,
                details=details,
                violations=decision.violations if decision else (),
            )
            raise
        return record, team

    async def _call_github(
        self,
        principal: Principal,
        record: RunnerRecord,
        team: Team,
        call: Callable[[], Awaitable[T]],
        *,
        creates_runner: bool = False,
    ) -> T:
        try:
            return await call()
        except (Exception, asyncio.CancelledError) as error:
            _about(error, team)
            if creates_runner and outcome_unknown(error):
                await self._leave_for_sync(principal, record, team, error)
            else:
                await self._release(principal, record, team, error)
            raise

    async def _leave_for_sync(
        self, principal: Principal, record: RunnerRecord, team: Team, error: BaseException
    ) -> None:
        """Audit a call that may have created the runner; its row stays for the sync worker."""
        details = {"error": _failure_reason(error), "resolved_by": "sync"}
        try:
            async with self._store.unit_of_work() as uow:
                await uow.audit.append(
                    self._audit(principal, record, team, AuditOutcome.FAILURE, details)
                )
        except Exception:
            _log.exception("provision.audit_failed", runner_id=str(record.id))

    async def _release(
        self, principal: Principal, record: RunnerRecord, team: Team, error: BaseException
    ) -> None:
        reason = _failure_reason(error)
        now = self._clock.now()
        try:
            async with self._store.unit_of_work() as uow:
                released, transition = move(
                    record, RunnerStatus.DELETED, at=now, source=_API, reason=reason
                )
                # Only the reservation as it was: a row someone moved meanwhile is theirs.
                await uow.runners.advance(record, released, transition)
                await uow.audit.append(
                    self._audit(principal, record, team, AuditOutcome.FAILURE, {"error": reason})
                )
        except Exception:
            # The row stays 'provisioning'; the sync worker resolves it. The caller still gets
            # the original error, which says more than this one.
            _log.exception("provision.release_failed", runner_id=str(record.id))

    async def _bind(
        self,
        principal: Principal,
        record: RunnerRecord,
        team: Team,
        github_runner_id: int | None,
    ) -> RunnerRecord:
        now = self._clock.now()
        expires_at = now + self._settings.pending_ttl
        # The common case in one compare-and-set: the row is still the reservation we wrote.
        bound = attrs.evolve(
            record,
            github_runner_id=record.github_runner_id or github_runner_id,
            expires_at=record.expires_at or expires_at,
            updated_at=now,
        )
        bound, moved = move(bound, RunnerStatus.PENDING, at=now, source=_API)
        audit = self._audit(principal, bound, team, AuditOutcome.SUCCESS, {})
        if await self._store.advance_runner(record, bound, moved, audit):
            return bound
        async with self._store.unit_of_work() as uow:
            # Someone moved it meanwhile (the sync worker, a deprovision call): read what it is.
            current = await uow.runners.get(record.id)
            if current is not None and current.status is not RunnerStatus.DELETED:
                runner = attrs.evolve(
                    current,
                    github_runner_id=current.github_runner_id or github_runner_id,
                    expires_at=current.expires_at or expires_at,
                    updated_at=now,
                )
                transition = None
                if current.status is RunnerStatus.PROVISIONING:
                    runner, transition = move(runner, RunnerStatus.PENDING, at=now, source=_API)
                if await uow.runners.advance(current, runner, transition):
                    await uow.audit.append(
                        self._audit(principal, runner, team, AuditOutcome.SUCCESS, {})
                    )
                    return runner
        return await self._removed_meanwhile(principal, record, team, github_runner_id)

    async def _removed_meanwhile(
        self,
        principal: Principal,
        record: RunnerRecord,
        team: Team,
        github_runner_id: int | None,
    ) -> RunnerRecord:
        # Someone (a deprovision call, the sync worker) deleted the reservation while GitHub was
        # answering: nobody accounts for the new GitHub runner, so take it back.
        if github_runner_id is not None:
            try:
                await self._github.delete_runner(github_runner_id)
            except Exception:
                _log.exception("provision.rollback_failed", github_runner_id=github_runner_id)
        reason = "reservation removed while provisioning"
        async with self._store.unit_of_work() as uow:
            await uow.audit.append(
                self._audit(principal, record, team, AuditOutcome.FAILURE, {"error": reason})
            )
        conflict = Conflict(f"Runner '{record.name}' was removed while it was being provisioned.")
        _about(conflict, team)
        raise conflict

    def _audit(
        self,
        principal: Principal,
        runner: RunnerRecord,
        team: Team,
        outcome: AuditOutcome,
        extra: Mapping[str, Any],
    ) -> AuditEvent:
        return audit_event(
            self._clock,
            principal.actor,
            AuditAction.RUNNER_PROVISION,
            target_type="runner",
            target_id=runner.id,
            outcome=outcome,
            team=team,
            details={
                "method": runner.method.value,
                "runner_name": runner.name,
                "labels": list(runner.labels),
                "runner_group_id": runner.runner_group_id,
                "github_runner_id": runner.github_runner_id,
                **extra,
            },
        )


def _about(error: BaseException, team: Team | None) -> None:
    """Name ``team`` on ``error`` (when it is ours and names none), for whoever counts refusals."""
    if team is not None and isinstance(error, GhartsError) and error.team is None:
        error.team = team.name


def _str_or_none(value: object | None) -> str | None:
    return None if value is None else str(value)


def outcome_unknown(error: BaseException) -> bool:
    """Whether GitHub may have acted on a call that failed with ``error``.

    Known outcomes: GitHub answered with a 4xx or a rate limit, the request never left (no
    installation token), or gharts refused the call itself (a name GitHub already has).
    Anything else (no answer, a 5xx, a cancelled request, an unexpected error) leaves it open
    whether GitHub created the runner.
    """
    if isinstance(error, GitHubUnavailable):
        return error.request_sent and (error.status is None or error.status >= 500)
    return not isinstance(error, GhartsError)


def _failure_reason(error: BaseException) -> str:
    if isinstance(error, asyncio.CancelledError):
        return "provisioning failed: request cancelled"
    if isinstance(error, GhartsError):
        return f"provisioning failed: {error.code}: {error.detail}"
    return f"provisioning failed: unexpected {type(error).__name__}"
