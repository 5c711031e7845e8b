"""``/admin/security``: security events with filters (type, severity, team, time range)."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.params import FromQuery

from gharts_core.model import SecurityEvent, SecurityEventType, Severity
from gharts_core.ports.storage import Page, PageResult
from gharts_core.services.admin_audit import SecurityEventQuery
from gharts_http.dashboard.audit_diff import shown
from gharts_http.dashboard.context import DashboardDep, ViewerDep
from gharts_http.dashboard.controllers._admin_forms import (
    PAGE_SIZE,
    choice,
    form_values,
    listing,
    moment,
    offset_of,
    team_names,
    text,
)
from gharts_http.dashboard.pages import page

TYPES = tuple(kind.value for kind in SecurityEventType)
SEVERITIES = tuple(severity.value for severity in Severity)


def security_table(
    path: str, found: PageResult[SecurityEvent], filters: dict[str, str], number: int
) -> dict[str, object]:
    """Return what the security filters and table at ``path`` show: choices, rows, count, pager.

    Each row is the event and its details as text.
    """
    rows = [
        {"event": event, "details": {k: shown(v) for k, v in sorted(event.details.items())}}
        for event in found.items
    ]
    return {
        "rows": rows,
        "types": TYPES,
        "severities": SEVERITIES,
        **listing(path, filters, number, found.total),
    }


def security_filters(
    *,
    type_: str | None,
    severity: str | None,
    since: str | None,
    until: str | None,
    team: str | None = None,
) -> tuple[SecurityEventQuery, dict[str, str]]:
    """Return the query of the filter form, and its values as the form shows them again."""
    query = SecurityEventQuery(
        type=choice("type", SecurityEventType, type_),
        severity=choice("severity", Severity, severity),
        team=text(team),
        since=moment("since", since),
        until=moment("until", until),
    )
    return query, form_values(query)


class AdminSecurityPages(Controller):
    """Security events, for admins only."""

    path = "/admin/security"
    include_in_schema = False

    @get("/")
    async def events(
        self,
        dashboard: DashboardDep,
        viewer: ViewerDep,
        *,
        type: FromQuery[str | None] = None,  # noqa: A002 - the API's filter name
        severity: FromQuery[str | None] = None,
        team: FromQuery[str | None] = None,
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
        page_number: FromQuery[int] = 1,
    ) -> Response[str]:
        """One page of security events matching the filters, newest first."""
        query, filters = security_filters(
            type_=type, severity=severity, team=team, since=since, until=until
        )
        number, offset = offset_of(page_number)
        services = dashboard.services
        found = await services.audit.list_security_events(
            viewer.principal, query, Page(limit=PAGE_SIZE, offset=offset)
        )
        context = {
            "viewer": viewer,
            "active": "admin",
            "teams": await team_names(dashboard, viewer),
            **security_table("/admin/security", found, filters, number),
        }
        return page("admin/security.html", context)
