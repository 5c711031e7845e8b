"""GitHub metrics: a metering decorator around the :class:`RunnerPlatform` port.

Every port call is counted by operation and outcome (``ok`` or the ``error_code`` it raised) and
timed; GitHub's last reported rate-limit budget is read from the platform at scrape time and is
absent until GitHub has reported one.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from gharts_core.errors import GhartsError
from gharts_core.model import ObservedRunner
from gharts_core.ports.github import (
    JitConfig,
    JitRequest,
    ListedPage,
    RateLimitStatus,
    RegistrationToken,
    RunnerPlatform,
)

T = TypeVar("T")


def outcome_of(error: BaseException) -> str:
    """Return the metric outcome of a failure: its ``error_code``, or ``INTERNAL_ERROR``."""
    return error.code.value if isinstance(error, GhartsError) else "INTERNAL_ERROR"


class _RateLimitCollector(Collector):
    """Reads the watched platform's budget when Prometheus scrapes."""

    def __init__(self) -> None:
        self.platform: RunnerPlatform | None = None

    def describe(self) -> Iterable[Metric]:
        return self._families(None)

    def collect(self) -> Iterable[Metric]:
        status = self.platform.rate_limit() if self.platform is not None else None
        return self._families(status)

    @staticmethod
    def _families(status: RateLimitStatus | None) -> list[Metric]:
        remaining = GaugeMetricFamily(
            "gharts_github_rate_limit_remaining", "GitHub REST requests left in the window."
        )
        limit = GaugeMetricFamily(
            "gharts_github_rate_limit_limit", "GitHub REST requests allowed per window."
        )
        reset = GaugeMetricFamily(
            "gharts_github_rate_limit_reset_timestamp_seconds",
            "When GitHub's REST budget resets (Unix time).",
        )
        if status is not None:
            if status.remaining is not None:
                remaining.add_metric([], status.remaining)
            if status.limit is not None:
                limit.add_metric([], status.limit)
            if status.reset_at is not None:
                reset.add_metric([], status.reset_at.timestamp())
        return [remaining, limit, reset]


class GitHubMetrics:
    """GitHub port calls by operation and outcome, their durations, and the rate-limit budget."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "gharts_github_requests",
            "Calls to GitHub through the runner platform, by operation and outcome.",
            ["operation", "outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            "gharts_github_request_duration_seconds",
            "Duration of calls to GitHub (retries included), by operation.",
            ["operation"],
            registry=registry,
        )
        self._rate_limit = _RateLimitCollector()
        registry.register(self._rate_limit)

    def watch(self, platform: RunnerPlatform) -> None:
        """Export ``platform``'s rate-limit budget at scrape time."""
        self._rate_limit.platform = platform

    def observe(self, operation: str, outcome: str, duration: float) -> None:
        """Record one call of ``operation`` that ended with ``outcome`` after ``duration`` s."""
        self.calls.labels(operation, outcome).inc()
        self.duration.labels(operation).observe(duration)


class MeteredRunnerPlatform:
    """A :class:`RunnerPlatform` that counts and times every call of the one it wraps."""

    def __init__(self, inner: RunnerPlatform, metrics: GitHubMetrics) -> None:
        self.inner = inner
        self._metrics = metrics
        metrics.watch(inner)

    @property
    def registration_url(self) -> str:
        """The URL a runner passes to ``config.sh --url`` for this scope."""
        return self.inner.registration_url

    async def create_jit_config(self, request: JitRequest) -> JitConfig:
        """Register a runner and return its JIT configuration."""
        return await self._metered(
            "create_jit_config", lambda: self.inner.create_jit_config(request)
        )

    async def create_registration_token(self) -> RegistrationToken:
        """Return a fresh registration token for the scope."""
        return await self._metered(
            "create_registration_token", self.inner.create_registration_token
        )

    async def list_runners(self) -> Sequence[ObservedRunner]:
        """Return every self-hosted runner at the scope."""
        return await self._metered("list_runners", self.inner.list_runners)

    def listed_pages(self) -> Sequence[ListedPage]:
        """Return the pages of the last complete listing (no call to GitHub: not metered)."""
        return self.inner.listed_pages()

    def remember_pages(self, pages: Sequence[ListedPage]) -> None:
        """Seed the listing's cache with pages read before (no call to GitHub: not metered)."""
        self.inner.remember_pages(pages)

    async def get_runner(self, github_runner_id: int) -> ObservedRunner | None:
        """Return one runner, or ``None`` when GitHub no longer has it."""
        return await self._metered("get_runner", lambda: self.inner.get_runner(github_runner_id))

    async def delete_runner(self, github_runner_id: int) -> bool:
        """Remove a runner; return ``False`` when GitHub had already forgotten it."""
        return await self._metered(
            "delete_runner", lambda: self.inner.delete_runner(github_runner_id)
        )

    async def cancel_workflow_run(self, repository: str, run_id: int) -> None:
        """Cancel a workflow run in ``owner/name``."""
        await self._metered(
            "cancel_workflow_run", lambda: self.inner.cancel_workflow_run(repository, run_id)
        )

    def rate_limit(self) -> RateLimitStatus:
        """Return the most recent rate-limit figures GitHub reported."""
        return self.inner.rate_limit()

    async def _metered(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        started = time.perf_counter()
        try:
            result = await call()
        except Exception as error:
            self._metrics.observe(operation, outcome_of(error), time.perf_counter() - started)
            raise
        self._metrics.observe(operation, "ok", time.perf_counter() - started)
        return result
