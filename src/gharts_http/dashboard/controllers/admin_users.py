"""``/admin/users``: list with filters, create, change, deactivate with a reason, reactivate.

Every action goes through :class:`~gharts_core.services.admin_users.UserAdminService`, so the
dashboard allows exactly what ``/api/v1/admin/users`` allows. An error the admin can fix (the
last-admin guard ``CONFLICT``, a missing reason, a taken email, an unknown team) is shown on the
form it came from, with what was typed; anything else is the error page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from gharts_core.authz import require_admin
from gharts_core.errors import BadRequest, Conflict, GhartsError, TeamNotFound, UserNotFound
from gharts_core.ports.storage import Page
from gharts_core.services.admin_users import CreateUser, UpdateUser, UserDetails, UserQuery
from gharts_http.dashboard.context import Dashboard, DashboardDep, ViewerDep
from gharts_http.dashboard.controllers._admin_forms import (
    PAGE_SIZE,
    flag,
    listing,
    offset_of,
    team_names,
    text,
)
from gharts_http.dashboard.controllers._path_ids import path_id
from gharts_http.dashboard.errors import details_of, status_of
from gharts_http.dashboard.pages import page, redirect
from gharts_http.dashboard.sessions import Viewer

FIXABLE = (Conflict, BadRequest, TeamNotFound)
_NOTICES = {
    "created": "The user was created.",
    "updated": "The changes were saved.",
    "deactivated": "The user was deactivated; their dashboard sessions have ended.",
    "reactivated": "The user was reactivated.",
}
_SEPARATORS = re.compile(r"[\s,]+")


def _checked(form: Mapping[str, Any], name: str) -> bool:
    return form.get(name) in ("on", "true", "yes")


def problem(error: GhartsError) -> dict[str, object]:
    """Return what a form shows of an error the admin can fix: sentence, code, details."""
    return {"message": error.detail, "code": error.code.value, "details": details_of(error)}


class AdminUserPages(Controller):
    """Users, for admins only."""

    path = "/admin/users"
    include_in_schema = False

    @get("/")
    async def users(
        self,
        dashboard: DashboardDep,
        viewer: ViewerDep,
        *,
        email: FromQuery[str | None] = None,
        admin: FromQuery[str | None] = None,
        active: FromQuery[str | None] = None,
        team: FromQuery[str | None] = None,
        page_number: FromQuery[int] = 1,
    ) -> Response[str]:
        """List the users matching the filters, by email, 50 per page."""
        filters = {
            "email": email or "",
            "admin": admin or "",
            "active": active or "",
            "team": team or "",
        }
        query = UserQuery(
            email=text(email),
            is_admin=flag("admin", admin),
            is_active=flag("active", active),
            team=text(team),
        )
        number, offset = offset_of(page_number)
        found = await dashboard.services.users.list_users(
            viewer.principal, query, Page(limit=PAGE_SIZE, offset=offset)
        )
        context = {
            "viewer": viewer,
            "active": "admin",
            "users": found.items,
            "teams": await team_names(dashboard, viewer),
            **listing("/admin/users", filters, number, found.total),
        }
        return page("admin/users.html", context)

    @get("/new")
    async def new_user(self, viewer: ViewerDep) -> Response[str]:
        """Show the form that creates a user."""
        require_admin(viewer.principal)
        return _new_form(viewer, {"can_use_jit": "on"}, None)

    @post("/", status_code=303)
    async def create(
        self, request: Request[Any, Any, Any], dashboard: DashboardDep, viewer: ViewerDep
    ) -> Response[str]:
        """Create the user, then show it; a fixable error is shown on the form."""
        form = await request.form()
        dashboard.check_form(request, viewer, form)
        teams = tuple(t for t in _SEPARATORS.split(str(form.get("teams", ""))) if t)
        command = CreateUser(
            email=str(form.get("email", "")),
            display_name=str(form.get("display_name", "")),
            is_admin=_checked(form, "is_admin"),
            can_use_jit=_checked(form, "can_use_jit"),
            can_use_registration_token=_checked(form, "can_use_registration_token"),
            teams=teams,
        )
        try:
            created = await dashboard.services.users.create_user(viewer.principal, command)
        except FIXABLE as error:
            return _new_form(viewer, dict(form), error)
        return redirect(f"/admin/users/{created.user.id}?done=created")

    @get("/{user_id:str}")
    async def user(
        self,
        dashboard: DashboardDep,
        viewer: ViewerDep,
        user_id: FromPath[str],
        *,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        """Show one user with the forms that change, deactivate or reactivate it."""
        details = await dashboard.services.users.get_user(
            viewer.principal, path_id(user_id, UserNotFound)
        )
        return _user_page(viewer, details, notice=_NOTICES.get(done or ""))

    @post("/{user_id:str}", status_code=303)
    async def update(
        self,
        request: Request[Any, Any, Any],
        dashboard: DashboardDep,
        viewer: ViewerDep,
        user_id: FromPath[str],
    ) -> Response[str]:
        """Save the display name, the capabilities and the admin flag."""
        form = await request.form()
        dashboard.check_form(request, viewer, form)
        command = UpdateUser(
            display_name=str(form.get("display_name", "")),
            is_admin=_checked(form, "is_admin"),
            can_use_jit=_checked(form, "can_use_jit"),
            can_use_registration_token=_checked(form, "can_use_registration_token"),
        )
        return await _change(dashboard, viewer, user_id, "updated", command=command)

    @post("/{user_id:str}/deactivate", status_code=303)
    async def deactivate(
        self,
        request: Request[Any, Any, Any],
        dashboard: DashboardDep,
        viewer: ViewerDep,
        user_id: FromPath[str],
    ) -> Response[str]:
        """Deactivate the user with the reason given."""
        form = await request.form()
        dashboard.check_form(request, viewer, form)
        reason = str(form.get("reason", ""))
        return await _change(dashboard, viewer, user_id, "deactivated", reason=reason)

    @post("/{user_id:str}/reactivate", status_code=303)
    async def reactivate(
        self,
        request: Request[Any, Any, Any],
        dashboard: DashboardDep,
        viewer: ViewerDep,
        user_id: FromPath[str],
    ) -> Response[str]:
        """Reactivate a deactivated user."""
        dashboard.check_form(request, viewer, await request.form())
        return await _change(dashboard, viewer, user_id, "reactivated")


async def _change(
    dashboard: Dashboard,
    viewer: Viewer,
    user_id: str,
    done: str,
    *,
    command: UpdateUser | None = None,
    reason: str | None = None,
) -> Response[str]:
    users = dashboard.services.users
    target = path_id(user_id, UserNotFound)
    try:
        if command is not None:
            await users.update_user(viewer.principal, target, command)
        elif reason is not None:
            await users.deactivate_user(viewer.principal, target, reason)
        else:
            await users.reactivate_user(viewer.principal, target)
    except FIXABLE as error:
        details = await users.get_user(viewer.principal, target)
        return _user_page(viewer, details, error=error, reason=reason)
    return redirect(f"/admin/users/{target}?done={done}")


def _user_page(
    viewer: Viewer,
    details: UserDetails,
    *,
    notice: str | None = None,
    error: GhartsError | None = None,
    reason: str | None = None,
) -> Response[str]:
    context = {
        "viewer": viewer,
        "active": "admin",
        "user": details.user,
        "teams": details.teams,
        "notice": notice,
        "problem": None if error is None else problem(error),
        "reason": reason or "",
    }
    return page("admin/user.html", context, status=200 if error is None else status_of(error))


def _new_form(
    viewer: Viewer, values: Mapping[str, Any], error: GhartsError | None
) -> Response[str]:
    context = {
        "viewer": viewer,
        "active": "admin",
        "values": {k: str(v) for k, v in values.items() if k != "csrf_token"},
        "problem": None if error is None else problem(error),
    }
    return page("admin/user_new.html", context, status=200 if error is None else status_of(error))
