"""Prometheus metrics of one app instance, on a registry of its own (tests run many apps).

:class:`Metrics` owns the registry and the HTTP layer's collectors; other modules (the worker's,
for one) register theirs on the same ``registry``. ``GET /metrics`` renders it with
:meth:`Metrics.render` after :meth:`Metrics.refresh` has re-read the runner inventory.

======================================  =========================================================
``gharts_http_requests_total``          requests by ``route`` template, ``method``, ``status``
``gharts_http_request_duration_seconds``  request duration by ``route`` and ``method``
``gharts_provisioning_total``           provisioning attempts by ``team``, ``method``, ``outcome``
``gharts_provisioning_duration_seconds``  provisioning duration by ``method``
``gharts_github_requests_total``        GitHub port calls by ``operation`` and ``outcome``
``gharts_github_request_duration_seconds``  GitHub port call duration by ``operation``
``gharts_github_rate_limit_*``          GitHub's last reported REST budget (``remaining``, ...)
``gharts_token_verifications_total``    bearer token checks by ``outcome`` (``ok`` or reason)
``gharts_runners``                      live runners by ``team`` and ``status`` (database)
``gharts_team_live_runners``            runners counting towards each team's quota (database)
``gharts_team_max_runners``             each limited team's quota (database)
``gharts_database_up``                  whether the last scrape could read the database
``gharts_build_info``                   always 1; ``version`` and ``python`` name the build
======================================  =========================================================

An ``outcome`` is ``ok`` or the ``error_code`` of the failure. Counters and histograms carry no
``_created`` series: prometheus_client's are switched off for the process (they double the
series count and Prometheus does not need them).
"""

from __future__ import annotations

import platform
from importlib.metadata import version

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from gharts_core.ports.storage import Store
from gharts_http.metrics.github import GitHubMetrics
from gharts_http.metrics.identity import TokenMetrics
from gharts_http.metrics.inventory import RunnerInventory
from gharts_http.metrics.provisioning import ProvisioningMetrics

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client leaves it bare


class HttpMetrics:
    """Requests by route template, method and status, and their durations."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "gharts_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "gharts_http_request_duration_seconds",
            "HTTP request duration by route template and method.",
            ["route", "method"],
            registry=registry,
        )

    def observe(self, *, route: str, method: str, status: int, duration: float) -> None:
        """Record one request that ended with ``status`` after ``duration`` seconds."""
        self.requests.labels(route, method, str(status)).inc()
        self.duration.labels(route, method).observe(duration)


class Metrics:
    """The app's registry and the HTTP layer's collectors on it."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http = HttpMetrics(self.registry)
        self.provisioning = ProvisioningMetrics(self.registry)
        self.github = GitHubMetrics(self.registry)
        self.tokens = TokenMetrics(self.registry)
        self.inventory = RunnerInventory(self.registry)
        self.build = Info("gharts_build", "The running gharts build.", registry=self.registry)
        self.build.info({"version": version("gharts"), "python": platform.python_version()})

    async def refresh(self, store: Store) -> None:
        """Re-read the scrape-time gauges (runners by team and status, quotas) from ``store``."""
        await self.inventory.refresh(store)

    def render(self) -> bytes:
        """Return the registry in the Prometheus text format (:data:`CONTENT_TYPE`)."""
        return generate_latest(self.registry)
