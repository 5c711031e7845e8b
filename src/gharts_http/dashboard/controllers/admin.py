"""``/admin/*``: the admin pages (part 2). A non-admin gets the 403 page on every one already."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from gharts_core.authz import require_admin
from gharts_core.errors import NotFound
from gharts_http.dashboard.context import ViewerDep


class AdminPages(Controller):
    """Every ``/admin`` path: 403 for non-admins, 404 for admins until the pages exist."""

    path = "/admin"
    include_in_schema = False

    @get(["/", "/{rest:path}"])
    async def admin(self, request: Request[Any, Any, Any], viewer: ViewerDep) -> Response[str]:
        """Refuse non-admins; tell admins this page does not exist yet."""
        require_admin(viewer.principal)
        raise NotFound(request.url.path)
