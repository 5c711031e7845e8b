"""A team's quota use as ``_quota.html`` shows it: its live runners against its limit."""

from __future__ import annotations

from gharts_core.model import Team
from gharts_core.ports.storage import Page
from gharts_core.services.runners import RunnerQuery
from gharts_http.dashboard.context import Dashboard
from gharts_http.dashboard.sessions import Viewer


async def live_runners(dashboard: Dashboard, viewer: Viewer, team: Team) -> int:
    """Return how many of the team's runners count towards its quota."""
    found = await dashboard.services.runners.list(
        viewer.principal, RunnerQuery(team_name=team.name, include_deleted=False), Page(limit=1)
    )
    return found.total


def quota_use(live: int, team: Team) -> dict[str, object]:
    """Return ``_quota.html``'s values: ``live``, ``max`` and ``percent`` (none when unlimited)."""
    percent = None if not team.max_runners else min(100, round(100 * live / team.max_runners))
    return {"live": live, "max": team.max_runners, "percent": percent}
