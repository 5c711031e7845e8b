"""The Litestar application factory: controllers, dependencies and the one error table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from importlib.metadata import version
from typing import Any

from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.routes import HTTPRoute
from litestar.types import ControllerRouterHandler

from gharts_http.api.access_log import AccessLogMiddleware
from gharts_http.api.controllers.admin_audit import AdminAuditController
from gharts_http.api.controllers.admin_clients import AdminClientController
from gharts_http.api.controllers.admin_sync import AdminSyncController
from gharts_http.api.controllers.admin_teams import AdminTeamController
from gharts_http.api.controllers.admin_users import AdminUserController
from gharts_http.api.controllers.auth import AuthController
from gharts_http.api.controllers.ops import healthz, metrics, readyz, warm_identity
from gharts_http.api.controllers.policy import PolicyController
from gharts_http.api.controllers.runners import RunnerController
from gharts_http.api.controllers.teams import TeamViewController
from gharts_http.api.controllers.webhooks import WebhookController
from gharts_http.api.dependencies import BEARER_SCHEME, DEPENDENCIES, authenticated
from gharts_http.api.docs import docs_assets, render_plugins
from gharts_http.api.errors import EXCEPTION_HANDLERS, PageRenderer, not_found_handler
from gharts_http.api.principal_cache import forget_principals_after_admin_change
from gharts_http.api.rate_limit import RateLimits
from gharts_http.api.request_context import add_request_id_header
from gharts_http.bootstrap import Services

ROUTE_HANDLERS: tuple[ControllerRouterHandler, ...] = (
    RunnerController,
    AuthController,
    PolicyController,
    AdminAuditController,
    AdminUserController,
    AdminTeamController,
    AdminClientController,
    AdminSyncController,
    TeamViewController,
    WebhookController,
    healthz,
    readyz,
    metrics,
    docs_assets(),
)


def openapi_config() -> OpenAPIConfig:
    """Return the OpenAPI 3.1 settings: the document at ``/schema/openapi.json``."""
    return OpenAPIConfig(
        title="gharts",
        version=version("gharts"),
        description="GitHub Actions runner token service: OIDC-authenticated, policy-checked "
        "just-in-time runners. Every error body is {detail, error_code, ...}.",
        path="/schema",
        components=Components(
            security_schemes={
                BEARER_SCHEME: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="An OIDC JWT from a trusted issuer.",
                )
            }
        ),
        use_handler_docstrings=True,
        render_plugins=render_plugins(),
    )


def _allow_every_method(app: Litestar) -> None:
    """Make each path's ``OPTIONS`` answer name every method of the path.

    Litestar builds a path's ``OPTIONS`` handler with the first controller that registers the
    path and keeps it when other handlers join later; its ``Allow`` header then reads the methods
    of that first registration only. Point each one at the route it serves now.
    """
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or "OPTIONS" not in route.route_handler_map:
            continue
        handler = route.route_handler_map["OPTIONS"][0]
        closure = dict(
            zip(handler.fn.__code__.co_freevars, handler.fn.__closure__ or (), strict=True)
        )
        if "self" in closure and isinstance(closure["self"].cell_contents, HTTPRoute):
            closure["self"].cell_contents = route


def create_app(
    services: Services,
    *,
    extra_handlers: Sequence[ControllerRouterHandler] = (),
    on_shutdown: Sequence[Callable[[], Awaitable[Any]]] = (),
    not_found_page: PageRenderer | None = None,
    debug: bool = False,
) -> Litestar:
    """Build the app around already-wired ``services`` (the caller owns and closes them).

    With ``not_found_page`` (the dashboard's), a browser asking for an unknown path outside
    ``/api/`` gets that page instead of the JSON ``NOT_FOUND``.
    """
    handlers = dict(EXCEPTION_HANDLERS)
    if not_found_page is not None:
        handlers.update(not_found_handler(not_found_page))
    app = Litestar(
        route_handlers=[*ROUTE_HANDLERS, *extra_handlers],
        dependencies=DEPENDENCIES,
        guards=[authenticated],
        exception_handlers=handlers,
        before_send=[add_request_id_header, forget_principals_after_admin_change],
        openapi_config=openapi_config(),
        request_max_body_size=services.settings.server.max_body_bytes,
        on_startup=[warm_identity],
        on_shutdown=list(on_shutdown),
        debug=debug,
        logging_config=None,
    )
    _allow_every_method(app)
    app.state.services = services
    app.state.rate_limits = RateLimits.of(services.settings, services.clock)
    # Outside Litestar's exception handling, so that every request is logged and measured.
    app.asgi_handler = AccessLogMiddleware(app.asgi_handler, services.metrics.http)
    return app
