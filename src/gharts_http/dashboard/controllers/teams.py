"""``/teams`` and ``/teams/{name}``: the person's teams, their policy, quota use and members."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.params import FromPath

from gharts_core.model import Team
from gharts_core.ports.storage import MAX_PAGE_SIZE, Page
from gharts_core.services.runners import RunnerQuery
from gharts_http.dashboard.context import Dashboard, DashboardDep, ViewerDep
from gharts_http.dashboard.pages import page
from gharts_http.dashboard.sessions import Viewer


async def _live(dashboard: Dashboard, viewer: Viewer, team: Team) -> int:
    found = await dashboard.services.runners.list(
        viewer.principal,
        RunnerQuery(team_name=team.name, include_deleted=False),
        Page(limit=1),
    )
    return found.total


def _use(live: int, team: Team) -> dict[str, object]:
    percent = None if not team.max_runners else min(100, round(100 * live / team.max_runners))
    return {"live": live, "max": team.max_runners, "percent": percent}


class TeamPages(Controller):
    """The teams this person may read (every team for admins)."""

    include_in_schema = False

    @get("/teams")
    async def teams(self, dashboard: DashboardDep, viewer: ViewerDep) -> Response[str]:
        """List the teams with their quota use."""
        found = await dashboard.services.team_views.list_teams(
            viewer.principal, Page(limit=MAX_PAGE_SIZE)
        )
        rows = [(team, _use(await _live(dashboard, viewer, team), team)) for team in found.items]
        return page("teams.html", {"viewer": viewer, "active": "teams", "rows": rows})

    @get("/teams/{name:str}")
    async def team(
        self, dashboard: DashboardDep, viewer: ViewerDep, name: FromPath[str]
    ) -> Response[str]:
        """Show one team: policy, runner groups, quota use and members."""
        team = await dashboard.services.team_views.get_team(viewer.principal, name)
        async with dashboard.services.store.unit_of_work(read_only=True) as uow:
            members = await uow.memberships.members_of(team.id)
        context = {
            "viewer": viewer,
            "active": "teams",
            "team": team,
            "use": _use(await _live(dashboard, viewer, team), team),
            "members": members,
        }
        return page("team.html", context)
