"""The API docs page (``/schema``) from packaged assets: Redoc without a CDN or web fonts.

Litestar's Redoc page loads its script from a CDN by default, which leaves ``/schema`` blank on a
network without internet. Here the script is Redoc's standalone bundle (npm package ``redoc``
2.5.4, MIT; ``docs_assets/NOTICE.md``), served by the app under :data:`ASSETS_PATH`.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from litestar import Router
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, RedocRenderPlugin
from litestar.static_files import create_static_files_router

ASSETS_PATH = "/static/api-docs"
ASSETS_DIRECTORY = Path(str(files("gharts_http.api") / "docs_assets"))


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """Return the docs pages: Redoc at ``/schema`` (and ``/schema/redoc``), the JSON document."""
    return [
        RedocRenderPlugin(
            js_url=f"{ASSETS_PATH}/redoc.standalone.js",
            google_fonts=False,
            path="/redoc",
            favicon="",  # Litestar's default icon comes from a CDN
        ),
        JsonRenderPlugin(),
    ]


def docs_assets() -> Router:
    """Return the router serving the docs page's script."""
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[ASSETS_DIRECTORY],
        name="api-docs-assets",
        include_in_schema=False,
    )
