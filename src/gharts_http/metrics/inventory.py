"""Scrape-time gauges read from the database: runners by team and status, and team quotas.

The ``/metrics`` handler awaits :meth:`RunnerInventory.refresh` before rendering; the collector
then reports exactly the latest snapshot, so a (team, status) pair that no longer has runners
disappears from the output instead of lingering at its last value. When the database cannot be
read the runner series are dropped (never stale) and ``gharts_database_up`` is 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs
import structlog
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from gharts_core.model import RunnerStatus, Team
from gharts_core.ports.storage import MAX_PAGE_SIZE, Page, Store, TeamFilter, UnitOfWork

_log = structlog.get_logger("gharts.metrics")


@attrs.frozen
class InventorySnapshot:
    """What the database said at the last scrape."""

    up: bool = False
    runners: Mapping[tuple[str, RunnerStatus], int] = attrs.field(factory=dict)
    max_runners: Mapping[str, int | None] = attrs.field(factory=dict)


async def _all_teams(uow: UnitOfWork) -> list[Team]:
    teams: list[Team] = []
    while True:
        page = await uow.teams.list(TeamFilter(), Page(limit=MAX_PAGE_SIZE, offset=len(teams)))
        teams.extend(page.items)
        if not page.items or len(teams) >= page.total:
            return teams


async def read_inventory(store: Store) -> InventorySnapshot:
    """Return the runner counts and team quotas from ``store`` (raises if it cannot answer)."""
    async with store.unit_of_work() as uow:
        counts = await uow.runners.count_by_team_and_status()
        teams = await _all_teams(uow)
    return InventorySnapshot(
        up=True, runners=dict(counts), max_runners={team.name: team.max_runners for team in teams}
    )


class RunnerInventory(Collector):
    """Reports the latest :class:`InventorySnapshot` as gauges."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.snapshot = InventorySnapshot()
        registry.register(self)

    async def refresh(self, store: Store) -> None:
        """Replace the snapshot with what ``store`` says now (an empty, down one on failure)."""
        try:
            self.snapshot = await read_inventory(store)
        except Exception as error:  # a scrape must answer whatever the database does
            _log.warning("metrics.inventory_unavailable", error_type=type(error).__name__)
            self.snapshot = InventorySnapshot(up=False)

    def describe(self) -> Iterable[Metric]:
        """Return the metric families without samples (for the registry's name checks)."""
        return self._families(InventorySnapshot())

    def collect(self) -> Iterable[Metric]:
        """Return the gauges of the latest snapshot."""
        return self._families(self.snapshot)

    @staticmethod
    def _families(snapshot: InventorySnapshot) -> list[Metric]:
        up = GaugeMetricFamily(
            "gharts_database_up", "Whether the last scrape could read the database (1) or not (0)."
        )
        up.add_metric([], 1.0 if snapshot.up else 0.0)
        runners = GaugeMetricFamily(
            "gharts_runners",
            "Runners by team and status (deleted runners excluded).",
            labels=["team", "status"],
        )
        live = GaugeMetricFamily(
            "gharts_team_live_runners",
            "Runners counting towards each team's quota.",
            labels=["team"],
        )
        quota = GaugeMetricFamily(
            "gharts_team_max_runners",
            "Each team's quota (teams without a limit are absent).",
            labels=["team"],
        )
        per_team: dict[str, int] = dict.fromkeys(snapshot.max_runners, 0)
        for (team, status), count in sorted(snapshot.runners.items()):
            runners.add_metric([team, status.value], count)
            if status.is_live:
                per_team[team] = per_team.get(team, 0) + count
        for team, count in sorted(per_team.items()):
            live.add_metric([team], count)
        for team, limit in sorted(snapshot.max_runners.items()):
            if limit is not None:
                quota.add_metric([team], limit)
        return [up, runners, live, quota]
