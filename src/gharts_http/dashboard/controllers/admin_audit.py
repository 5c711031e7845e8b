"""``/admin/audit``: the audit log with filters, paging, before/after diffs and export links.

The export (``/admin/audit/export?format=jsonl|csv`` with the page's filters) streams the same
file ``GET /api/v1/admin/audit/export`` writes, through the same service call, with the
session's authority.
"""

from __future__ import annotations

from collections.abc import Mapping

from litestar import Controller, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery
from litestar.response import Stream

from gharts_core.errors import ValidationFailed
from gharts_core.model import AuditAction, AuditEvent, AuditOutcome
from gharts_core.ports.storage import Page, PageResult
from gharts_core.services.admin_audit import AuditQuery
from gharts_http.audit_export import AUDIT_MEDIA_TYPES, audit_file, audit_file_name
from gharts_http.dashboard.audit_diff import changes_of, other_details
from gharts_http.dashboard.context import DashboardDep, ViewerDep
from gharts_http.dashboard.controllers._admin_forms import (
    PAGE_SIZE,
    choice,
    form_values,
    listing,
    moment,
    offset_of,
    query_string,
    team_names,
    text,
)
from gharts_http.dashboard.pages import SECURITY_HEADERS, page

ACTIONS = tuple(action.value for action in AuditAction)
OUTCOMES = tuple(outcome.value for outcome in AuditOutcome)


def audit_table(
    path: str, found: PageResult[AuditEvent], filters: dict[str, str], number: int
) -> dict[str, object]:
    """Return what the audit filters and table at ``path`` show: choices, rows, count, pager.

    Each row is the event, its before/after diff and its other details.
    """
    rows = [
        {"event": event, "changes": changes_of(event), "details": other_details(event)}
        for event in found.items
    ]
    return {
        "rows": rows,
        "actions": ACTIONS,
        "outcomes": OUTCOMES,
        **listing(path, filters, number, found.total),
    }


AuditFilters = tuple[AuditQuery, dict[str, str]]


def audit_filters(
    *,
    actor: FromQuery[str | None] = None,
    action: FromQuery[str | None] = None,
    target: FromQuery[str | None] = None,
    outcome: FromQuery[str | None] = None,
    since: FromQuery[str | None] = None,
    until: FromQuery[str | None] = None,
    team: FromQuery[str | None] = None,
) -> AuditFilters:
    """Return the query of the filter form, and its values as the form shows them again.

    A dependency (``AUDIT_FILTERS``): its arguments are the request's query parameters.
    """
    query = AuditQuery(
        actor=text(actor),
        action=text(action),
        team=text(team),
        target=text(target),
        outcome=choice("outcome", AuditOutcome, outcome),
        since=moment("since", since),
        until=moment("until", until),
    )
    return query, form_values(query)


AUDIT_FILTERS = {"audit_filter": Provide(audit_filters, sync_to_thread=False)}
AuditFilterDep = NamedDependency[AuditFilters]


class AdminAuditPages(Controller):
    """The audit log, for admins only."""

    path = "/admin/audit"
    include_in_schema = False
    dependencies = AUDIT_FILTERS

    @get("/")
    async def audit(
        self,
        dashboard: DashboardDep,
        viewer: ViewerDep,
        audit_filter: AuditFilterDep,
        *,
        page_number: FromQuery[int] = 1,
    ) -> Response[str]:
        """One page of audit rows matching the filters, newest first."""
        query, filters = audit_filter
        number, offset = offset_of(page_number)
        services = dashboard.services
        found = await services.audit.list_audit(
            viewer.principal, query, Page(limit=PAGE_SIZE, offset=offset)
        )
        context = {
            "viewer": viewer,
            "active": "admin",
            "teams": await team_names(dashboard, viewer),
            "export_jsonl": "/admin/audit/export?" + query_string(filters, format="jsonl"),
            "export_csv": "/admin/audit/export?" + query_string(filters, format="csv"),
            **audit_table("/admin/audit", found, filters, number),
        }
        return page("admin/audit.html", context)

    @get("/export")
    async def export(
        self,
        dashboard: DashboardDep,
        viewer: ViewerDep,
        audit_filter: AuditFilterDep,
        *,
        format: FromQuery[str] = "jsonl",  # noqa: A002 - the API's parameter name
    ) -> Stream:
        """Stream every row matching the filters as JSON Lines or CSV, newest first."""
        if format not in AUDIT_MEDIA_TYPES:
            raise ValidationFailed({"format": "one of: jsonl, csv"})
        query, _ = audit_filter
        services = dashboard.services
        events = await services.audit.export_audit(viewer.principal, query)
        name = audit_file_name(services.clock.now(), format)
        headers: Mapping[str, str] = {
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="{name}"',
        }
        return Stream(
            audit_file(events, format), media_type=AUDIT_MEDIA_TYPES[format], headers=headers
        )
