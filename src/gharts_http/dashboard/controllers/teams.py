"""``/teams`` and ``/teams/{name}``: the person's teams, their policy, quota use and members.

``/teams/{name}/audit`` and ``/teams/{name}/security`` show a member their team's audit log and
security events, read-only, through :class:`~gharts_core.services.team_views.TeamViewService`:
another team's is the 403 page ``NOT_TEAM_MEMBER`` (recorded), an unknown one the 404 page.
"""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.params import FromPath, FromQuery

from gharts_core.ports.storage import MAX_PAGE_SIZE, Page
from gharts_core.services.team_views import TeamAuditQuery, TeamSecurityEventQuery
from gharts_http.dashboard.context import DashboardDep, ViewerDep
from gharts_http.dashboard.controllers._admin_forms import PAGE_SIZE, offset_of, pager
from gharts_http.dashboard.controllers.admin_audit import (
    ACTIONS,
    OUTCOMES,
    audit_filters,
    audit_rows,
)
from gharts_http.dashboard.controllers.admin_security import (
    SEVERITIES,
    TYPES,
    security_filters,
    security_rows,
)
from gharts_http.dashboard.pages import page
from gharts_http.dashboard.team_quota import live_runners, quota_use


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

    @get("/teams/{name:str}/audit")
    async def team_audit(
        self,
        dashboard: DashboardDep,
        viewer: ViewerDep,
        name: FromPath[str],
        *,
        actor: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        target: FromQuery[str | None] = None,
        outcome: FromQuery[str | None] = None,
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
        page_number: FromQuery[int] = 1,
    ) -> Response[str]:
        """One page of the team's audit rows, newest first (members and admins)."""
        query, filters = audit_filters(
            actor=actor, action=action, target=target, outcome=outcome, since=since, until=until
        )
        del filters["team"]
        number, offset = offset_of(page_number)
        team_query = TeamAuditQuery(
            actor=query.actor,
            action=query.action,
            target=query.target,
            outcome=query.outcome,
            since=query.since,
            until=query.until,
        )
        found = await dashboard.services.team_views.team_audit(
            viewer.principal, name, team_query, Page(limit=PAGE_SIZE, offset=offset)
        )
        context = {
            "viewer": viewer,
            "active": "teams",
            "team_name": name,
            "rows": audit_rows(found),
            "total": found.total,
            "filters": filters,
            "teams": None,
            "actions": ACTIONS,
            "outcomes": OUTCOMES,
            **pager(f"/teams/{name}/audit", filters, number, found.total),
        }
        return page("team_audit.html", context)

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
        team_query = TeamSecurityEventQuery(
            type=query.type, severity=query.severity, since=query.since, until=query.until
        )
        found = await dashboard.services.team_views.team_security_events(
            viewer.principal, name, team_query, Page(limit=PAGE_SIZE, offset=offset)
        )
        context = {
            "viewer": viewer,
            "active": "teams",
            "team_name": name,
            "rows": security_rows(found),
            "total": found.total,
            "filters": filters,
            "teams": None,
            "types": TYPES,
            "severities": SEVERITIES,
            **pager(f"/teams/{name}/security", filters, number, found.total),
        }
        return page("team_security.html", context)
