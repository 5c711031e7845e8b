"""``/admin/teams``: teams, their policy (after an impact preview), status and members.

Admins only: every handler asks the core's admin check first, so a member gets the 403 page
before any form is read.

A policy change goes through a preview: the editor posts to ``/preview``, which shows what the
change would do (and refuses an invalid policy as the save would); its Save posts the same
fields to ``/policy``, optionally with "remove the idle refused runners now", done through the
runner service (GitHub first, then the record, each audited).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from gharts_core.errors import GhartsError, InvalidPolicy, UserNotFound
from gharts_core.policy import LabelPolicy
from gharts_core.ports.storage import MAX_PAGE_SIZE, Page
from gharts_core.services.admin_teams import UpdateTeam
from gharts_core.services.admin_users import UserQuery
from gharts_core.services.policy_impact import PolicyImpactService
from gharts_http.dashboard.admin_team_view import ACTIVE, enforcement, team_page
from gharts_http.dashboard.context import Dashboard, DashboardDep, ViewerDep
from gharts_http.dashboard.controllers._path_ids import path_id
from gharts_http.dashboard.errors import status_of
from gharts_http.dashboard.pages import page, redirect
from gharts_http.dashboard.sessions import Viewer
from gharts_http.dashboard.team_forms import (
    POLICY_FIELDS,
    checked,
    create_command,
    patterns,
    problem_lines,
    sent,
    text,
    update_command,
)
from gharts_http.dashboard.team_quota import live_runners

Form = dict[str, Any]


async def admin_form(
    request: Request[Any, Any, Any], dashboard: Dashboard, viewer: Viewer, operation: str
) -> Form:
    """Refuse non-admins (403), then read the form and refuse it without the CSRF token."""
    await dashboard.services.admin_access.require(viewer.principal, operation)
    form = dict(await request.form())
    dashboard.check_form(request, viewer, form)
    return form


def team_path(name: str, **notice: object) -> str:
    """Return the admin page of a team, with a notice of what was just done."""
    query = urlencode({key: value for key, value in notice.items() if value is not None})
    return f"/admin/teams/{name}" + (f"?{query}" if query else "")


def _impact_service(dashboard: Dashboard) -> PolicyImpactService:
    services = dashboard.services
    return PolicyImpactService(services.store, services.clock, enforcement(dashboard))


def _notice(saved: str | None, removed: int | None, failed: int | None) -> str | None:
    words = {
        "policy": "The policy was saved.",
        "deactivated": "The team was deactivated: it can no longer provision.",
        "reactivated": "The team was reactivated.",
        "member-added": "The member was added.",
        "member-kept": "That person was already a member.",
        "member-removed": "The member was removed.",
        "client-registered": "The client was registered.",
        "client-disabled": "The client was disabled: its tokens are refused from now on.",
        "client-enabled": "The client was enabled.",
    }
    if saved not in words:
        return None
    parts = [words[saved]]
    if removed:
        parts.append(f"{removed} idle runner{'s' if removed != 1 else ''} removed.")
    if failed:
        parts.append(f"{failed} could not be removed (see the runners page).")
    return " ".join(parts)


class AdminTeamPages(Controller):
    """The admin's team pages."""

    path = "/admin/teams"
    include_in_schema = False

    async def _list(
        self,
        dashboard: Dashboard,
        viewer: Viewer,
        *,
        form: Form | None = None,
        error: GhartsError | None = None,
    ) -> Response[str]:
        services = dashboard.services
        found = await services.teams.list_teams(viewer.principal, page=Page(limit=MAX_PAGE_SIZE))
        rows = [(team, await live_runners(dashboard, viewer, team)) for team in found.items]
        context = {
            "viewer": viewer,
            "active": ACTIVE,
            "rows": rows,
            "form": sent(form or {}, ("name", *POLICY_FIELDS)),
            "error": error,
            "error_details": problem_lines(error) if error else [],
        }
        return page("admin/team_list.html", context, status=status_of(error) if error else 200)

    @get("/")
    async def teams(self, dashboard: DashboardDep, viewer: ViewerDep) -> Response[str]:
        """List every team, with the form that creates one."""
        await dashboard.services.admin_access.require(viewer.principal, "team.list")
        return await self._list(dashboard, viewer)

    @post("/")
    async def create(
        self, request: Request[Any, Any, Any], dashboard: DashboardDep, viewer: ViewerDep
    ) -> Response[str]:
        """Create the team and open its page; show the form again with the error otherwise."""
        form = await admin_form(request, dashboard, viewer, "team.create")
        try:
            team = await dashboard.services.teams.create_team(
                viewer.principal, create_command(form)
            )
        except GhartsError as error:
            return await self._list(dashboard, viewer, form=form, error=error)
        return redirect(team_path(team.name))

    @get("/{name:str}")
    async def team(
        self,
        dashboard: DashboardDep,
        viewer: ViewerDep,
        name: FromPath[str],
        *,
        saved: FromQuery[str | None] = None,
        removed: FromQuery[int | None] = None,
        failed: FromQuery[int | None] = None,
    ) -> Response[str]:
        """Show the team's settings, editor, members, clients and latest changes."""
        await dashboard.services.admin_access.require(viewer.principal, "team.get")
        return await team_page(dashboard, viewer, name, notice=_notice(saved, removed, failed))

    @post("/{name:str}/patterns")
    async def check_patterns(
        self,
        request: Request[Any, Any, Any],
        dashboard: DashboardDep,
        viewer: ViewerDep,
        name: FromPath[str],
    ) -> Response[str]:
        """Answer the editor's live check: each pattern RE2 refuses, with the reason."""
        form = await admin_form(request, dashboard, viewer, "team.check_patterns")
        await dashboard.services.teams.get_team(viewer.principal, name)  # 404 for no such team
        typed = patterns(text(form, "optional_label_patterns"))
        problems: list[str] = []
        try:
            LabelPolicy(optional_label_patterns=typed)
        except InvalidPolicy as error:
            problems = problem_lines(error)
        context = {"count": len(typed), "problems": problems}
        return page("admin/_policy_patterns.html", context)

    @post("/{name:str}/preview")
    async def preview(
        self,
        request: Request[Any, Any, Any],
        dashboard: DashboardDep,
        viewer: ViewerDep,
        name: FromPath[str],
    ) -> Response[str]:
        """Show what saving the edited policy would do, with the Save button."""
        form = await admin_form(request, dashboard, viewer, "team.preview")
        try:
            impact = await _impact_service(dashboard).preview(
                viewer.principal, name, update_command(form)
            )
        except GhartsError as error:
            return await team_page(
                dashboard, viewer, name, error=error, section="policy", form=sent(form)
            )
        context = {"viewer": viewer, "active": ACTIVE, "impact": impact, "form": sent(form)}
        return page("admin/team_preview.html", context)

    @post("/{name:str}/policy")
    async def save(
        self,
        request: Request[Any, Any, Any],
        dashboard: DashboardDep,
        viewer: ViewerDep,
        name: FromPath[str],
    ) -> Response[str]:
        """Save the previewed policy; then remove the idle refused runners when asked to."""
        form = await admin_form(request, dashboard, viewer, "team.update")
        services = dashboard.services
        try:
            await services.teams.update_team(viewer.principal, name, update_command(form))
        except GhartsError as error:
            return await team_page(
                dashboard, viewer, name, error=error, section="policy", form=sent(form)
            )
        removed = failed = 0
        if checked(form, "deprovision_idle"):
            # Judged again under the policy now saved: a runner may have started a job since.
            impact = await _impact_service(dashboard).preview(viewer.principal, name, UpdateTeam())
            for refused in impact.idle:
                try:
                    await services.runners.deprovision(viewer.principal, refused.runner.id)
                    removed += 1
                except GhartsError:
                    failed += 1
        return redirect(
            team_path(name, saved="policy", removed=removed or None, failed=failed or None)
        )

    @post("/{name:str}/deactivate")
    async def deactivate(
        self,
        request: Request[Any, Any, Any],
        dashboard: DashboardDep,
        viewer: ViewerDep,
        name: FromPath[str],
    ) -> Response[str]:
        """Stop the team from provisioning, with the reason given."""
        form = await admin_form(request, dashboard, viewer, "team.deactivate")
        try:
            await dashboard.services.teams.deactivate_team(
                viewer.principal, name, text(form, "reason")
            )
        except GhartsError as error:
            return await team_page(dashboard, viewer, name, error=error, section="status")
        return redirect(team_path(name, saved="deactivated"))

    @post("/{name:str}/reactivate")
    async def reactivate(
        self,
        request: Request[Any, Any, Any],
        dashboard: DashboardDep,
        viewer: ViewerDep,
        name: FromPath[str],
    ) -> Response[str]:
        """Let the team provision again."""
        await admin_form(request, dashboard, viewer, "team.reactivate")
        await dashboard.services.teams.reactivate_team(viewer.principal, name)
        return redirect(team_path(name, saved="reactivated"))

    @post("/{name:str}/members")
    async def add_member(
        self,
        request: Request[Any, Any, Any],
        dashboard: DashboardDep,
        viewer: ViewerDep,
        name: FromPath[str],
    ) -> Response[str]:
        """Add the user with the email typed to the team."""
        form = await admin_form(request, dashboard, viewer, "team.member_add")
        email = text(form, "email")
        try:
            user_id = await _user_by_email(dashboard, viewer, email)
            change = await dashboard.services.teams.add_member(viewer.principal, name, user_id)
        except GhartsError as error:
            return await team_page(
                dashboard, viewer, name, error=error, section="members", extra={"email": email}
            )
        return redirect(team_path(name, saved="member-added" if change.changed else "member-kept"))

    @post("/{name:str}/members/{user_id:str}/remove")
    async def remove_member(
        self,
        request: Request[Any, Any, Any],
        dashboard: DashboardDep,
        viewer: ViewerDep,
        name: FromPath[str],
        user_id: FromPath[str],
    ) -> Response[str]:
        """Remove the member from the team."""
        await admin_form(request, dashboard, viewer, "team.member_remove")
        await dashboard.services.teams.remove_member(
            viewer.principal, name, path_id(user_id, UserNotFound)
        )
        return redirect(team_path(name, saved="member-removed"))


async def _user_by_email(dashboard: Dashboard, viewer: Viewer, email: str) -> uuid.UUID:
    """Return the id of the user with this email (case-insensitive); ``UserNotFound`` if none."""
    if email:
        found = await dashboard.services.users.list_users(
            viewer.principal, UserQuery(email=email), Page(limit=MAX_PAGE_SIZE)
        )
        for details in found.items:
            if details.user.email.lower() == email.lower():
                return details.user.id
    raise UserNotFound(email or "(no email given)")
