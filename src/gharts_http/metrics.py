"""Prometheus metrics of one app instance, on a registry of its own (tests run many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry


class Metrics:
    """The app's registry; collectors are added by the modules that update them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
