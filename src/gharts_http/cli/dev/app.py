"""The pieces ``gharts dev`` adds to the ordinary app: settings, the dev issuer, the simulator.

Only dev mode serves the development issuer's documents under ``/dev/oidc`` and mounts the GitHub
simulator (with its ``/_simulator`` control API) under ``/_github``; :func:`create_app` alone has
neither. Tokens are verified in process: the verifier fetches the issuer's documents through
:meth:`DevIssuer.transport`, never through the server itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar, get
from litestar.handlers import HTTPRouteHandler
from litestar.types import ControllerRouterHandler

from gharts_adapters.github.simulator import mount_simulator
from gharts_adapters.identity import DevIssuer, JwtVerifier
from gharts_adapters.identity.dev_issuer import AUTHORIZE_PATH, DEFAULT_AUDIENCE
from gharts_http.api.app import create_app
from gharts_http.bootstrap import Services
from gharts_http.cli.dev.data_dir import (
    ISSUER_PATH,
    database_url,
    issuer_url,
    session_secret_path,
)
from gharts_http.cli.dev.login import login_handlers
from gharts_http.dashboard import dashboard_handlers, not_found_page
from gharts_http.settings import Settings, settings_from_mapping

SIMULATOR_PATH = "/_github"
DEV_SCOPE = "org:gharts-dev"
DEV_SYNC_INTERVAL_SECONDS = 10
DEV_DASHBOARD_CLIENT = "gharts-dashboard"


def dev_settings(
    data_dir: Path, *, host: str, port: int, public_url: str, admin_email: str
) -> Settings:
    """Return the embedded dev configuration (no file, no environment overrides).

    The dashboard's session secret is kept in ``data_dir`` (created there when missing).
    """
    data: dict[str, Any] = {
        "server": {"host": host, "port": port, "public_url": public_url},
        "database": {"url": database_url(data_dir)},
        "github": {"mode": "simulator", "scope": DEV_SCOPE},
        "auth": {
            "issuers": [{"issuer": issuer_url(public_url), "audiences": [DEFAULT_AUDIENCE]}],
            "bootstrap_admins": [admin_email],
        },
        "sync": {"interval_seconds": DEV_SYNC_INTERVAL_SECONDS},
        # A public client (PKCE, no secret) of the dev issuer; sessions outlive a restart.
        "dashboard": {
            "enabled": True,
            "issuer": issuer_url(public_url),
            "client_id": DEV_DASHBOARD_CLIENT,
            "session_secret_path": str(session_secret_path(data_dir)),
        },
    }
    return settings_from_mapping(data, environ={})


def dev_verifier(issuer: DevIssuer, client: httpx.AsyncClient) -> JwtVerifier:
    """Return a verifier trusting only ``issuer``; ``client`` must be on its transport."""
    return JwtVerifier([issuer.issuer_config()], client)


def _document_handler(path: str, document: dict[str, Any]) -> HTTPRouteHandler:
    @get(
        path,
        name=f"dev-oidc:{path}",
        tags=["development"],
        summary=f"Development issuer: {path.rsplit('/', 1)[-1]}",
        description="Served by `gharts dev` only.",
    )
    async def serve_document() -> dict[str, Any]:
        return document

    return serve_document


def issuer_handlers(issuer: DevIssuer, path: str = ISSUER_PATH) -> list[HTTPRouteHandler]:
    """Return handlers serving the issuer's discovery document and JWKS under ``path``."""
    prefix = "/" + path.strip("/")
    return [
        _document_handler(prefix + relative, document)
        for relative, document in issuer.documents().items()
    ]


def create_dev_app(
    services: Services,
    issuer: DevIssuer,
    *,
    extra_handlers: Sequence[ControllerRouterHandler] = (),
) -> Litestar:
    """Build the app with the dev issuer (documents, login page), the simulator, the dashboard.

    The dashboard reaches the dev issuer in process, through :meth:`DevIssuer.transport`.
    """
    if services.simulator is None:
        raise ValueError('dev mode needs github.mode = "simulator"')
    issuer_client = httpx.AsyncClient(transport=issuer.transport())
    services.resources.push_async_callback(issuer_client.aclose)
    return create_app(
        services,
        extra_handlers=[
            *issuer_handlers(issuer),
            *login_handlers(services, issuer, "/" + ISSUER_PATH.strip("/") + AUTHORIZE_PATH),
            mount_simulator(services.simulator, SIMULATOR_PATH),
            *dashboard_handlers(services, client=issuer_client),
            *extra_handlers,
        ],
        not_found_page=not_found_page,
    )
