"""The web dashboard: server-rendered pages for people, beside the API in the same app."""

from gharts_http.dashboard.app import dashboard_handlers

__all__ = ["dashboard_handlers"]
