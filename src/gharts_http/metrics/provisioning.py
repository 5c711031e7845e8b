"""Provisioning metrics: outcomes by team, method and ``error_code`` (``ok`` for success).

:class:`MeteredProvisioning` wraps the core's :class:`ProvisioningService` and counts every
attempt. The team of a refused attempt is the existing team the core resolved for it
(:attr:`GhartsError.team <gharts_core.errors.GhartsError.team>`); anything else is counted under
the empty team, so a caller cannot mint label values by sending made-up team names, and the
metrics never ask the database a second time.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram

from gharts_core.errors import GhartsError
from gharts_core.model import Principal
from gharts_core.services.provision import (
    JitProvisioned,
    ProvisioningService,
    ProvisionJitRunner,
    ProvisionRegistrationToken,
    RegistrationTokenIssued,
)
from gharts_http.metrics.github import outcome_of

NO_TEAM = ""

R = TypeVar("R", JitProvisioned, RegistrationTokenIssued)


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


class MeteredProvisioning:
    """The provisioning use cases of ``service``, each attempt counted in ``metrics``."""

    def __init__(self, service: ProvisioningService, metrics: ProvisioningMetrics) -> None:
        self._service = service
        self._metrics = metrics

    async def provision_jit(
        self, principal: Principal, command: ProvisionJitRunner
    ) -> JitProvisioned:
        """Provision a JIT runner (see :class:`ProvisioningService`), counting the outcome."""
        return await self._counted("jit", lambda: self._service.provision_jit(principal, command))

    async def provision_registration_token(
        self, principal: Principal, command: ProvisionRegistrationToken
    ) -> RegistrationTokenIssued:
        """Issue a registration token (see :class:`ProvisioningService`), counting the outcome."""
        return await self._counted(
            "registration_token",
            lambda: self._service.provision_registration_token(principal, command),
        )

    async def _counted(self, method: str, attempt: Callable[[], Awaitable[R]]) -> R:
        started = time.perf_counter()
        try:
            result = await attempt()
        except Exception as error:
            team = (error.team if isinstance(error, GhartsError) else None) or NO_TEAM
            self._observe(method, team, outcome_of(error), started)
            raise
        self._observe(method, result.team.name, "ok", started)
        return result

    def _observe(self, method: str, team: str, outcome: str, started: float) -> None:
        duration = time.perf_counter() - started
        self._metrics.observe(team=team, method=method, outcome=outcome, duration=duration)
