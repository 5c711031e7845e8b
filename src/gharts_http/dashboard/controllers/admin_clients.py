"""``/admin/teams/{name}/clients``: register a team's machine clients, disable and enable them.

The issuer is chosen from the trusted issuers (the ones whose tokens gharts verifies); the core
refuses any other, as the admin API does. Admins only, as every ``/admin`` page.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, post
from litestar.params import FromPath

from gharts_core.errors import ClientNotFound, GhartsError
from gharts_core.services.admin_clients import CreateClient
from gharts_http.dashboard.admin_team_view import team_page
from gharts_http.dashboard.context import Dashboard, DashboardDep, ViewerDep
from gharts_http.dashboard.controllers._path_ids import path_id
from gharts_http.dashboard.controllers.admin_teams import admin_form, team_path
from gharts_http.dashboard.pages import redirect
from gharts_http.dashboard.sessions import Viewer
from gharts_http.dashboard.team_forms import checked, text

CLIENT_FIELDS = ("issuer", "subject", "description")


class AdminClientPages(Controller):
    """A team's machine clients, on the team's admin page."""

    path = "/admin/teams/{name:str}/clients"
    include_in_schema = False

    @post("/")
    async def register(
        self,
        request: Request[Any, Any, Any],
        dashboard: DashboardDep,
        viewer: ViewerDep,
        name: FromPath[str],
    ) -> Response[str]:
        """Register a client of this team; show the form again with the error otherwise."""
        form = await admin_form(request, dashboard, viewer, "client.create")
        command = CreateClient(
            issuer=text(form, "issuer"),
            subject=text(form, "subject"),
            team=name,
            description=text(form, "description"),
            can_use_jit=checked(form, "can_use_jit"),
            can_use_registration_token=checked(form, "can_use_registration_token"),
        )
        try:
            await dashboard.services.clients.create_client(viewer.principal, command)
        except GhartsError as error:
            typed = {key: text(form, key) for key in CLIENT_FIELDS}
            return await team_page(
                dashboard, viewer, name, error=error, section="clients", extra=typed
            )
        return redirect_to(name, "client-registered")

    @post("/{client_id:str}/disable")
    async def disable(
        self,
        request: Request[Any, Any, Any],
        dashboard: DashboardDep,
        viewer: ViewerDep,
        name: FromPath[str],
        client_id: FromPath[str],
    ) -> Response[str]:
        """Refuse the client's tokens from now on."""
        form = await admin_form(request, dashboard, viewer, "client.disable")
        try:
            await dashboard.services.clients.disable_client(
                viewer.principal,
                await _of_team(dashboard, viewer, name, client_id),
                text(form, "reason") or None,
            )
        except GhartsError as error:
            return await team_page(dashboard, viewer, name, error=error, section="clients")
        return redirect_to(name, "client-disabled")

    @post("/{client_id:str}/enable")
    async def enable(
        self,
        request: Request[Any, Any, Any],
        dashboard: DashboardDep,
        viewer: ViewerDep,
        name: FromPath[str],
        client_id: FromPath[str],
    ) -> Response[str]:
        """Accept the client's tokens again (``Conflict`` if another client took its identity)."""
        await admin_form(request, dashboard, viewer, "client.enable")
        try:
            await dashboard.services.clients.enable_client(
                viewer.principal, await _of_team(dashboard, viewer, name, client_id)
            )
        except GhartsError as error:
            return await team_page(dashboard, viewer, name, error=error, section="clients")
        return redirect_to(name, "client-enabled")


def redirect_to(name: str, saved: str) -> Response[str]:
    """Return the redirect to the team's page with the notice of what was done."""
    return redirect(team_path(name, saved=saved))


async def _of_team(dashboard: Dashboard, viewer: Viewer, name: str, value: str) -> uuid.UUID:
    """Return the id of a client of team ``name``; another team's client is not found here."""
    details = await dashboard.services.clients.get_client(
        viewer.principal, path_id(value, ClientNotFound)
    )
    if details.team_name != name:
        raise ClientNotFound(value)
    return details.client.id
