"""Prometheus metrics: one registry per app, and metering decorators around the core's ports.

:class:`Metrics` owns the registry; the decorators (:class:`MeteredRunnerPlatform`,
:class:`MeteredTokenVerifier`, :class:`MeteredProvisioning`) count what passes through them, so
that metrics never reach into the core.
"""

from gharts_http.metrics.github import GitHubMetrics, MeteredRunnerPlatform, outcome_of
from gharts_http.metrics.identity import MeteredTokenVerifier, TokenMetrics
from gharts_http.metrics.inventory import RunnerInventory
from gharts_http.metrics.provisioning import MeteredProvisioning, ProvisioningMetrics
from gharts_http.metrics.registry import CONTENT_TYPE, HttpMetrics, Metrics
from gharts_http.metrics.worker import WorkerMetrics

__all__ = [
    "CONTENT_TYPE",
    "GitHubMetrics",
    "HttpMetrics",
    "MeteredProvisioning",
    "MeteredRunnerPlatform",
    "MeteredTokenVerifier",
    "Metrics",
    "ProvisioningMetrics",
    "RunnerInventory",
    "TokenMetrics",
    "WorkerMetrics",
    "outcome_of",
]
