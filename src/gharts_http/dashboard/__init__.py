"""The web dashboard: server-rendered pages for people, beside the API in the same app."""

from gharts_http.dashboard.app import dashboard_handlers
from gharts_http.dashboard.errors import not_found_page

__all__ = ["dashboard_handlers", "not_found_page"]
