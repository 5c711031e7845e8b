"""``/teams`` and ``/teams/{name}``: the person's teams, their policy, quota use and members.

``/teams/{name}/audit`` and ``/teams/{name}/security`` show a member their team's audit log and
security events, read-only, through :class:`~gharts_core.services.team_views.TeamViewService`:
another team's is the 403 page ``NOT_TEAM_MEMBER`` (recorded), an unknown one the 404 page.
"""

from __future__ import annotations

from typing import Any

import attrs
from litestar import Controller, Response, get
from litestar.params import FromPath, FromQuery

from gharts_core.ports.storage import MAX_PAGE_SIZE, Page
from gharts_core.services.admin_audit import AuditQuery, SecurityEventQuery
from gharts_core.services.team_views import TeamAuditQuery, TeamSecurityEventQuery
from gharts_http.dashboard.context import DashboardDep, ViewerDep
from gharts_http.dashboard.controllers._admin_forms import PAGE_SIZE, offset_of
from gharts_http.dashboard.controllers.admin_audit import (
    AUDIT_FILTERS,
    AuditFilterDep,
    audit_table,
)
from gharts_http.dashboard.controllers.admin_security import security_filters, security_table
from gharts_http.dashboard.pages import page
from gharts_http.dashboard.sessions import Viewer
from gharts_http.dashboard.team_quota import live_runners, quota_use


def _without_team(query: AuditQuery | SecurityEventQuery) -> dict[str, Any]:
    """Return the filters but the team: a team's own log is scoped by its path."""
    return attrs.asdict(query, recurse=False, filter=lambda field, _: field.name != "team")


def _team_log(template: str, viewer: Viewer, name: str, table: dict[str, object]) -> Response[str]:
    """Render a team's read-only log: ``table`` without the team filter (the page is the team's)."""
    context = {"viewer": viewer, "active": "teams", "team_name": name, "teams": None, **table}
    return page(template, context)


class TeamPages(Controller):
    """The teams this person may read (every team for admins)."""

    include_in_schema = False

    @get("/teams")
    async def teams(self, dashboard: DashboardDep, viewer: ViewerDep) -> Response[str]:
        """List the teams with their quota use."""
        found = await dashboard.services.team_views.list_teams(
            viewer.principal, Page(limit=MAX_PAGE_SIZE)
        )
        rows = [
            (team, quota_use(await live_runners(dashboard, viewer, team), team))
            for team in found.items
        ]
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
            "use": quota_use(await live_runners(dashboard, viewer, team), team),
            "members": members,
        }
        return page("team.html", context)

    @get("/teams/{name:str}/audit", dependencies=AUDIT_FILTERS)
    async def team_audit(
        self,
        dashboard: DashboardDep,
        viewer: ViewerDep,
        name: FromPath[str],
        audit_filter: AuditFilterDep,
        *,
        page_number: FromQuery[int] = 1,
    ) -> Response[str]:
        """One page of the team's audit rows, newest first (members and admins)."""
        query, filters = audit_filter
        del filters["team"]
        number, offset = offset_of(page_number)
        found = await dashboard.services.team_views.team_audit(
            viewer.principal,
            name,
            TeamAuditQuery(**_without_team(query)),
            Page(limit=PAGE_SIZE, offset=offset),
        )
        table = audit_table(f"/teams/{name}/audit", found, filters, number)
        return _team_log("team_audit.html", viewer, name, table)

    @get("/teams/{name:str}/security")
    async def team_security(
        self,
        dashboard: DashboardDep,
        viewer: ViewerDep,
        name: FromPath[str],
        *,
        type: FromQuery[str | None] = None,  # noqa: A002 - the API's filter name
        severity: FromQuery[str | None] = None,
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
        page_number: FromQuery[int] = 1,
    ) -> Response[str]:
        """One page of the team's security events, newest first (members and admins)."""
        query, filters = security_filters(type_=type, severity=severity, since=since, until=until)
        del filters["team"]
        number, offset = offset_of(page_number)
        found = await dashboard.services.team_views.team_security_events(
            viewer.principal,
            name,
            TeamSecurityEventQuery(**_without_team(query)),
            Page(limit=PAGE_SIZE, offset=offset),
        )
        table = security_table(f"/teams/{name}/security", found, filters, number)
        return _team_log("team_security.html", viewer, name, table)
