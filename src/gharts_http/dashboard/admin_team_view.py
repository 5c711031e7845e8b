"""The admin page of one team: its settings and their editor, members, clients and changes.

Every form of the page posts elsewhere and comes back here: with a notice after a change, or
with the core's error shown beside the form it is about (``section``), the typed values kept,
and the error's status, so a person can correct the form without losing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from litestar import Response

from gharts_core.errors import GhartsError
from gharts_core.model import AuditEvent, Team
from gharts_core.ports.storage import MAX_PAGE_SIZE, Page
from gharts_core.services.admin_audit import AuditQuery
from gharts_core.services.admin_clients import ClientQuery
from gharts_core.services.webhook import WebhookEnforcement
from gharts_http.dashboard.context import Dashboard
from gharts_http.dashboard.errors import status_of
from gharts_http.dashboard.pages import page
from gharts_http.dashboard.sessions import Viewer
from gharts_http.dashboard.team_forms import form_of, problem_lines
from gharts_http.dashboard.team_quota import live_runners, quota_use

ACTIVE = "admin-teams"
RECENT_CHANGES = 10


@attrs.frozen
class Change:
    """One recorded change of the team's settings: who, when, and each field before and after."""

    event: AuditEvent
    fields: tuple[tuple[str, object, object], ...]

    @property
    def reason(self) -> object:
        """The reason given, for a deactivation."""
        return self.event.details.get("reason")


def change_of(event: AuditEvent) -> Change:
    """Return the audit row's before/after, field by field (a creation lists what was set)."""
    details = event.details
    before, after = details.get("before"), details.get("after")
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        changed = details.get("changed")
        names = changed if isinstance(changed, list) else sorted(after)
        fields = tuple((str(n), before.get(n), after.get(n)) for n in names)
    else:
        fields = tuple((str(n), None, value) for n, value in details.items())
    return Change(event, fields)


def trusted_issuers(dashboard: Dashboard) -> list[str]:
    """Return the issuers a client may be registered for (the verifier's, as the API checks)."""
    return sorted(dashboard.services.identity.readiness())


def enforcement(dashboard: Dashboard) -> WebhookEnforcement:
    """Return the webhook re-check's mode, as the service was configured."""
    return WebhookEnforcement(dashboard.services.settings.sync.webhook_enforcement.value)


async def changes(dashboard: Dashboard, viewer: Viewer, team: Team) -> list[Change]:
    """Return the latest changes of the team's settings, newest first."""
    found = await dashboard.services.audit.list_audit(
        viewer.principal,
        AuditQuery(team=team.name, target=team.name),
        Page(limit=RECENT_CHANGES),
    )
    return [change_of(event) for event in found.items if event.action.startswith("team.")]


async def team_page(
    dashboard: Dashboard,
    viewer: Viewer,
    name: str,
    *,
    error: GhartsError | None = None,
    section: str | None = None,
    form: Mapping[str, str] | None = None,
    notice: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response[str]:
    """Render the admin page of team ``name`` (the form values are the team's unless given)."""
    services = dashboard.services
    principal = viewer.principal
    team = await services.teams.get_team(principal, name)
    members = await services.teams.list_members(principal, name)
    clients = await services.clients.list_clients(
        principal, ClientQuery(team=name), Page(limit=MAX_PAGE_SIZE)
    )
    live = await live_runners(dashboard, viewer, team)
    context: dict[str, Any] = {
        "viewer": viewer,
        "active": ACTIVE,
        "team": team,
        "use": quota_use(live, team),
        "members": members,
        "clients": [details.client for details in clients.items],
        "issuers": trusted_issuers(dashboard),
        "changes": await changes(dashboard, viewer, team),
        "form": {**form_of(team), **(form or {})},
        "typed": {"email": "", "issuer": "", "subject": "", "description": "", **(extra or {})},
        "error": error,
        "error_details": problem_lines(error) if error else [],
        "section": section,
        "notice": notice,
    }
    return page("admin/team.html", context, status=status_of(error) if error else 200)
