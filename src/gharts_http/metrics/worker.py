"""Prometheus metrics of the sync worker, on the app's registry (:mod:`gharts_http.metrics`)."""

from __future__ import annotations

import weakref

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from gharts_core.model import SyncReport

_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
_BY_REGISTRY: weakref.WeakKeyDictionary[CollectorRegistry, WorkerMetrics] = (
    weakref.WeakKeyDictionary()
)


class WorkerMetrics:
    """Cycle durations and outcomes, actions by kind, errors, leadership, GitHub's runners."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.cycle_seconds = Histogram(
            "gharts_sync_cycle_duration_seconds",
            "Wall time of one sync cycle.",
            buckets=_BUCKETS,
            registry=registry,
        )
        self.cycles = Counter(
            "gharts_sync_cycles",
            "Sync cycles run, by outcome (ok, errors: finished with errors, failed: aborted).",
            ["outcome"],
            registry=registry,
        )
        self.actions = Counter(
            "gharts_sync_actions",
            "Drift actions applied by the sync worker, by kind.",
            ["kind"],
            registry=registry,
        )
        self.errors = Counter(
            "gharts_sync_errors",
            "Errors met by the sync worker (per runner, or a whole failed cycle).",
            registry=registry,
        )
        self.leader = Gauge(
            "gharts_sync_leader",
            "1 while this process leads the sync worker, 0 otherwise.",
            registry=registry,
        )
        self.observed = Gauge(
            "gharts_sync_github_runners",
            "Runners GitHub reported in the last cycle.",
            registry=registry,
        )
        self.unmanaged = Gauge(
            "gharts_sync_unmanaged_runners",
            "Runners GitHub reported in the last cycle that gharts did not create (ignored).",
            registry=registry,
        )

    @classmethod
    def of(cls, registry: CollectorRegistry) -> WorkerMetrics:
        """Return the worker metrics of ``registry``, registering them the first time."""
        metrics = _BY_REGISTRY.get(registry)
        if metrics is None:
            metrics = _BY_REGISTRY[registry] = cls(registry)
        return metrics

    def finished(self, report: SyncReport, seconds: float) -> None:
        """Record a cycle that ran to its end (possibly with per-runner errors)."""
        self.cycle_seconds.observe(seconds)
        self.cycles.labels("errors" if report.errors else "ok").inc()
        for kind, count in report.actions.items():
            self.actions.labels(kind).inc(count)
        self.errors.inc(len(report.errors))
        self.observed.set(report.observed)
        self.unmanaged.set(report.unmanaged)

    def failed(self, seconds: float) -> None:
        """Record a cycle that could not finish (GitHub listing or database failure)."""
        self.cycle_seconds.observe(seconds)
        self.cycles.labels("failed").inc()
        self.errors.inc()
