"""``/admin/``: the overview (runners, quota use, provisioning outcomes, sync, rate limit).

Every figure comes from the core services an admin's API call would use, so a non-admin gets the
403 page ``ADMIN_REQUIRED`` (recorded as a security event, as the API records it). An ``/admin``
path no page serves is the normal 404 page for admins and the 403 page for everyone else (GET or
POST); a path below a prefix another controller serves (``/admin/users/x/y``) is the router's 404,
which a browser sees as the 404 page too (``dashboard.errors.not_found_page``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post, route
from litestar.enums import HttpMethod
from litestar.params import FromQuery

from gharts_core.authz import require_admin
from gharts_core.errors import Conflict, NotFound
from gharts_core.model import AuditAction, AuditOutcome, Principal, RunnerStatus
from gharts_core.ports.storage import MAX_PAGE_SIZE, Page
from gharts_core.services.admin_audit import AuditQuery
from gharts_http.bootstrap import Services
from gharts_http.dashboard.charts import Bar, Segment, bar_chart, stacked_bar_chart
from gharts_http.dashboard.context import DashboardDep, ViewerDep
from gharts_http.dashboard.pages import page, redirect
from gharts_http.metrics.worker import WorkerMetrics
from gharts_http.worker import trigger_cycle

STATUS_COLOURS = {
    RunnerStatus.PROVISIONING.value: "#8250df",
    RunnerStatus.PENDING.value: "#d4a72c",
    RunnerStatus.ONLINE.value: "#1a7f37",
    RunnerStatus.BUSY.value: "#0550ae",
    RunnerStatus.OFFLINE.value: "#a40e26",
}
OUTCOME_WINDOW = timedelta(hours=24)
_TRIGGER_NOTES = {
    "scheduled": "A sync cycle was asked for; the worker runs it shortly.",
    "ran": "A sync cycle ran now; its report is below.",
    "refused": "Another worker is running a cycle and cannot be asked; it runs at its next "
    "interval.",
}


async def _provision_outcomes(services: Services, principal: Principal) -> list[Bar]:
    since = services.clock.now() - OUTCOME_WINDOW
    bars = []
    for outcome in AuditOutcome:
        query = AuditQuery(action=AuditAction.RUNNER_PROVISION.value, outcome=outcome, since=since)
        found = await services.audit.list_audit(principal, query, Page(limit=1))
        bars.append(Bar(label=outcome.value, value=found.total))
    return bars


async def _trigger(services: Services, principal: Principal) -> str:
    """Ask for a sync cycle exactly as ``POST /api/v1/admin/sync/trigger`` does."""
    try:
        report = await trigger_cycle(
            services.sync,
            principal,
            requests=services.sync_requests,
            database_url=services.settings.database.url,
            metrics=WorkerMetrics.of(services.metrics.registry),
        )
    except Conflict:
        return "refused"
    return "scheduled" if report is None else "ran"


class AdminPages(Controller):
    """``/admin/``: the overview; ``/admin/sync``: the sync trigger."""

    path = "/admin"
    include_in_schema = False

    @get("/")
    async def overview(
        self, dashboard: DashboardDep, viewer: ViewerDep, *, sync: FromQuery[str | None] = None
    ) -> Response[str]:
        """Show the charts and the sync status."""
        services = dashboard.services
        principal = viewer.principal
        stats = await services.audit.stats(principal)
        teams = await services.team_views.list_teams(principal, Page(limit=MAX_PAGE_SIZE))
        statuses = list(STATUS_COLOURS)
        runners = stacked_bar_chart(
            "runners-by-status",
            "Live runners by status, per team",
            [
                (
                    team,
                    [Segment(s, counts.get(RunnerStatus(s), 0)) for s in statuses],
                )
                for team, counts in stats.runners_by_team.items()
            ],
            colours=STATUS_COLOURS,
            empty="No live runners.",
        )
        quota = bar_chart(
            "quota-use",
            "Quota use per team (live runners of the maximum)",
            [
                Bar(
                    label=team.name,
                    value=sum(stats.runners_by_team.get(team.name, {}).values()),
                    maximum=team.max_runners or None,
                    note=""
                    if team.max_runners
                    else f"{sum(stats.runners_by_team.get(team.name, {}).values())}, no quota",
                )
                for team in teams.items
            ],
            empty="No teams.",
        )
        outcomes = bar_chart(
            "provisioning-outcomes",
            "Provisioning requests of the last 24 hours, by outcome",
            await _provision_outcomes(services, principal),
        )
        budget = services.github.rate_limit()
        rate_limit = None
        if budget.remaining is not None and budget.limit:
            rate_limit = bar_chart(
                "github-rate-limit",
                "GitHub REST requests left in the current window",
                [
                    Bar(
                        label="remaining",
                        value=budget.remaining,
                        maximum=budget.limit,
                        note=f"{budget.remaining} of {budget.limit}",
                    )
                ],
                colour="#1a7f37",
            )
        state = await services.sync.admin_status(principal)
        context = {
            "viewer": viewer,
            "active": "admin",
            "stats": stats,
            "runners_chart": runners,
            "quota_chart": quota,
            "outcomes_chart": outcomes,
            "rate_limit_chart": rate_limit,
            "budget": budget,
            "sync": state,
            "sync_note": _TRIGGER_NOTES.get(sync or ""),
            "interval_seconds": services.settings.sync.interval_seconds,
        }
        return page("admin/overview.html", context)

    @post("/sync", status_code=303)
    async def trigger_sync(
        self, request: Request[Any, Any, Any], dashboard: DashboardDep, viewer: ViewerDep
    ) -> Response[str]:
        """Ask for a sync cycle now, then show the overview saying what became of it."""
        dashboard.check_form(request, viewer, await request.form())
        outcome = await _trigger(dashboard.services, viewer.principal)
        return redirect(f"/admin/?sync={outcome}")

    @route("/{rest:path}", http_method=[HttpMethod.GET, HttpMethod.POST])
    async def unknown(self, request: Request[Any, Any, Any], viewer: ViewerDep) -> Response[str]:
        """No page: the 403 page for non-admins (nothing about /admin is theirs), else 404."""
        require_admin(viewer.principal)
        raise NotFound(request.url.path)
