"""Provisioning metrics: outcomes by team, method and ``error_code`` (``ok`` for success).

:class:`MeteredProvisioningService` is the core's :class:`ProvisioningService` with every attempt
counted. The team of a refused attempt is the existing team it was about (named in the request,
or the caller's only team), looked up once; anything else is counted under the empty team, so a
caller cannot mint label values by sending made-up team names.
"""

from __future__ import annotations

import time
import uuid

from prometheus_client import CollectorRegistry, Counter, Histogram

from gharts_core.errors import StorageUnavailable
from gharts_core.model import Principal, Team
from gharts_core.ports.clock import Clock
from gharts_core.ports.github import RunnerPlatform
from gharts_core.ports.storage import Store
from gharts_core.services.provision import (
    JitProvisioned,
    ProvisioningService,
    ProvisioningSettings,
    ProvisionJitRunner,
    ProvisionRegistrationToken,
    RegistrationTokenIssued,
)
from gharts_http.metrics.github import outcome_of

NO_TEAM = ""


class ProvisioningMetrics:
    """Provisioning attempts by team, method and outcome, and their durations by method."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.attempts = Counter(
            "gharts_provisioning",
            "Provisioning attempts by team, method (jit, registration_token) and outcome "
            "(ok or the error_code).",
            ["team", "method", "outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            "gharts_provisioning_duration_seconds",
            "Provisioning duration (policy, reservation and GitHub call), by method.",
            ["method"],
            registry=registry,
        )

    def observe(self, *, team: str, method: str, outcome: str, duration: float) -> None:
        """Record one attempt."""
        self.attempts.labels(team, method, outcome).inc()
        self.duration.labels(method).observe(duration)


class MeteredProvisioningService(ProvisioningService):
    """The provisioning use cases, each attempt counted in :class:`ProvisioningMetrics`."""

    def __init__(
        self,
        store: Store,
        github: RunnerPlatform,
        clock: Clock,
        settings: ProvisioningSettings | None = None,
        *,
        metrics: ProvisioningMetrics,
    ) -> None:
        super().__init__(store, github, clock, settings)
        self._teams = store
        self._metrics = metrics

    async def provision_jit(
        self, principal: Principal, command: ProvisionJitRunner
    ) -> JitProvisioned:
        """Provision a JIT runner (see :class:`ProvisioningService`), counting the outcome."""
        started = time.perf_counter()
        try:
            result = await super().provision_jit(principal, command)
        except Exception as error:
            await self._refused("jit", principal, command, error, started)
            raise
        self._observe("jit", result.team.name, "ok", started)
        return result

    async def provision_registration_token(
        self, principal: Principal, command: ProvisionRegistrationToken
    ) -> RegistrationTokenIssued:
        """Issue a registration token (see :class:`ProvisioningService`), counting the outcome."""
        method = "registration_token"
        started = time.perf_counter()
        try:
            result = await super().provision_registration_token(principal, command)
        except Exception as error:
            await self._refused(method, principal, command, error, started)
            raise
        self._observe(method, result.team.name, "ok", started)
        return result

    def _observe(self, method: str, team: str, outcome: str, started: float) -> None:
        duration = time.perf_counter() - started
        self._metrics.observe(team=team, method=method, outcome=outcome, duration=duration)

    async def _refused(
        self,
        method: str,
        principal: Principal,
        command: ProvisionJitRunner | ProvisionRegistrationToken,
        error: Exception,
        started: float,
    ) -> None:
        team = NO_TEAM
        if not isinstance(error, StorageUnavailable):  # no second trip to a database that is down
            team = await self._team_about(principal, command.team_name, command.team_id)
        self._observe(method, team, outcome_of(error), started)

    async def _team_about(
        self, principal: Principal, team_name: str | None, team_id: uuid.UUID | None
    ) -> str:
        """Return the existing team a refused request was about, or :data:`NO_TEAM`."""
        if team_id is None and team_name is None and len(principal.team_ids) == 1:
            (team_id,) = principal.team_ids
        try:
            async with self._teams.unit_of_work() as uow:
                team: Team | None = None
                if team_name is not None:
                    team = await uow.teams.get_by_name(team_name)
                elif team_id is not None:
                    team = await uow.teams.get(team_id)
        except Exception:  # the refusal matters, not its label: never mask it with another error
            return NO_TEAM
        return team.name if team is not None else NO_TEAM
