"""The HTTP API: the Litestar app factory, its dependencies, error table, bodies and controllers."""

from gharts_http.api.app import create_app, openapi_config

__all__ = ["create_app", "openapi_config"]
