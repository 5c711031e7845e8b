"""The dashboard's handlers, served by the same Litestar app as the API.

:func:`dashboard_handlers` returns the page controllers (one router with the dashboard's
dependencies and error pages) and ``/static``. With ``[dashboard] enabled = false`` there is no
dashboard: ``/`` stays the API's 404.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import httpx
from litestar import Response, Router
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from gharts_http.bootstrap import Services
from gharts_http.dashboard.config import DashboardConfig, dashboard_config
from gharts_http.dashboard.context import Dashboard, dependencies
from gharts_http.dashboard.controllers.admin import AdminPages
from gharts_http.dashboard.controllers.admin_audit import AdminAuditPages
from gharts_http.dashboard.controllers.admin_clients import AdminClientPages
from gharts_http.dashboard.controllers.admin_security import AdminSecurityPages
from gharts_http.dashboard.controllers.admin_teams import AdminTeamPages
from gharts_http.dashboard.controllers.admin_users import AdminUserPages
from gharts_http.dashboard.controllers.auth import AuthPages
from gharts_http.dashboard.controllers.events import EventStream
from gharts_http.dashboard.controllers.provision import ProvisionPages
from gharts_http.dashboard.controllers.runners import RunnerPages
from gharts_http.dashboard.controllers.teams import TeamPages
from gharts_http.dashboard.errors import EXCEPTION_HANDLERS
from gharts_http.dashboard.live import RunnerChanges
from gharts_http.dashboard.oidc import OidcLogin
from gharts_http.dashboard.sessions import Sessions
from gharts_http.dashboard.signing import Signer

STATIC_DIRECTORY = Path(str(files("gharts_http.dashboard") / "static"))


async def _static_headers(response: Response[object]) -> Response[object]:
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def static_files() -> Router:
    """Return the router of ``/static``: the stylesheet, the script, vendored htmx."""
    return create_static_files_router(
        path="/static",
        directories=[STATIC_DIRECTORY],
        name="dashboard-static",
        after_request=_static_headers,
        include_in_schema=False,
    )


def build_dashboard(
    services: Services, config: DashboardConfig, client: httpx.AsyncClient
) -> Dashboard:
    """Wire the dashboard's parts over ``services``; ``client`` reaches the identity provider."""
    signer = Signer(config.session_secret)
    return Dashboard(
        services=services,
        config=config,
        signer=signer,
        sessions=Sessions(services, signer, config.session_ttl_seconds),
        login=OidcLogin(config, client),
        changes=RunnerChanges.for_services(services),
    )


def dashboard_handlers(
    services: Services, *, client: httpx.AsyncClient | None = None
) -> list[ControllerRouterHandler]:
    """Return the dashboard's handlers, or none when ``[dashboard]`` is disabled.

    ``client`` (the caller's) reaches the identity provider; without it one is created and
    closed with ``services``.
    """
    config = dashboard_config(services.settings)
    if config is None:
        return []
    if client is None:
        client = httpx.AsyncClient()
        services.resources.push_async_callback(client.aclose)
    dashboard = build_dashboard(services, config, client)
    services.resources.push_async_callback(dashboard.changes.close)
    pages = Router(
        path="/",
        route_handlers=[
            AuthPages,
            RunnerPages,
            ProvisionPages,
            TeamPages,
            AdminPages,
            AdminTeamPages,
            AdminClientPages,
            AdminUserPages,
            AdminAuditPages,
            AdminSecurityPages,
            EventStream,
        ],
        dependencies=dependencies(dashboard),
        exception_handlers=dict(EXCEPTION_HANDLERS),
        include_in_schema=False,
    )
    return [pages, static_files()]
