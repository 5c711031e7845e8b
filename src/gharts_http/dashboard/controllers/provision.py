"""``/provision``: the form, its live policy dry run, and the JIT configuration shown once.

The runner-group picker lists the chosen team's groups: without JavaScript it lists every team's
(one ``<optgroup>`` each) and the POST refuses a group of another team with a sentence naming
the team; with htmx, changing the team swaps the options (``/provision/runner-groups``).
The JIT configuration is in the response to the form's POST only: never stored, never logged,
sent with ``Cache-Control: no-store``, so it is gone once the person navigates away.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery

from gharts_core.errors import GhartsError, ValidationFailed
from gharts_core.model import Team
from gharts_core.ports.storage import MAX_PAGE_SIZE, Page
from gharts_core.services.provision import ProvisionJitRunner
from gharts_http.dashboard.context import Dashboard, DashboardDep, ViewerDep
from gharts_http.dashboard.errors import details_of, status_of
from gharts_http.dashboard.pages import page
from gharts_http.dashboard.sessions import Viewer

_SEPARATORS = re.compile(r"[\s,]+")


def parse_labels(text: str) -> list[str]:
    """Return the labels typed in the form: separated by commas, spaces or new lines."""
    return [label for label in _SEPARATORS.split(text.strip()) if label]


async def _teams(dashboard: Dashboard, viewer: Viewer) -> list[Team]:
    """Return the active teams this person belongs to (admins too provision in their own)."""
    found = await dashboard.services.team_views.list_teams(
        viewer.principal, Page(limit=MAX_PAGE_SIZE)
    )
    return [t for t in found.items if t.id in viewer.principal.team_ids and t.is_active]


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _chosen(teams: list[Team], name: str) -> Team | None:
    return next(
        (team for team in teams if team.name == name), teams[0] if len(teams) == 1 else None
    )


def _check_group(teams: list[Team], form: Mapping[str, Any]) -> None:
    """Refuse a runner group the chosen team does not have (the no-JS picker lists them all)."""
    group = _text(form, "runner_group_id")
    team = _chosen(teams, _text(form, "team"))
    if not group.isdigit() or team is None or int(group) in team.allowed_runner_group_ids:
        return
    allowed = ", ".join(map(str, team.allowed_runner_group_ids))
    detail = (
        f"Runner group {group} is not one of team '{team.name}''s runner groups ({allowed}); "
        "choose one of them or the team's default."
    )
    raise ValidationFailed({"runner_group_id": detail}, detail)


def _command(form: Mapping[str, Any]) -> ProvisionJitRunner:
    name = _text(form, "name")
    group = _text(form, "runner_group_id")
    if group and not group.isdigit():
        raise ValidationFailed({"runner_group_id": "a runner group id is a whole number"})
    naming = _text(form, "naming")
    return ProvisionJitRunner(
        labels=parse_labels(_text(form, "labels")),
        runner_name=name if naming == "name" else None,
        runner_name_prefix=None if naming == "name" else name,
        team_name=_text(form, "team") or None,
        runner_group_id=int(group) if group else None,
    )


class ProvisionPages(Controller):
    """Provision a JIT runner from the browser."""

    include_in_schema = False

    async def _form(
        self,
        dashboard: Dashboard,
        viewer: Viewer,
        form: Mapping[str, Any],
        *,
        error: GhartsError | None = None,
    ) -> Response[str]:
        teams = await _teams(dashboard, viewer)
        context = {
            "viewer": viewer,
            "active": "provision",
            "teams": teams,
            "group_teams": teams,
            "selected": _text(form, "runner_group_id"),
            "form": {
                key: _text(form, key)
                for key in ("team", "labels", "name", "naming", "runner_group_id")
            },
            "error": error,
            "error_details": details_of(error) if error else [],
        }
        return page("provision.html", context, status=status_of(error) if error else 200)

    @get("/provision")
    async def show(self, dashboard: DashboardDep, viewer: ViewerDep) -> Response[str]:
        """Show the provisioning form."""
        return await self._form(dashboard, viewer, {"naming": "prefix"})

    @get("/provision/runner-groups")
    async def runner_groups(
        self,
        dashboard: DashboardDep,
        viewer: ViewerDep,
        team: FromQuery[str] = "",
        runner_group_id: FromQuery[str] = "",
    ) -> Response[str]:
        """Answer the team picker: the runner-group options of the team chosen."""
        teams = await _teams(dashboard, viewer)
        chosen = _chosen(teams, team.strip())
        context = {
            "group_teams": [chosen] if chosen is not None else teams,
            "selected": runner_group_id.strip(),
        }
        return page("_runner_groups.html", context)

    @post("/provision/dry-run")
    async def dry_run(
        self, request: Request[Any, Any, Any], dashboard: DashboardDep, viewer: ViewerDep
    ) -> Response[str]:
        """Answer the form's live check: what the team's policy does with the labels typed."""
        form = await request.form()
        dashboard.check_form(request, viewer, form)
        context: dict[str, Any] = {"result": None, "error": None}
        try:
            context["result"] = await dashboard.services.policy.check(
                viewer.principal,
                parse_labels(_text(form, "labels")),
                team_name=_text(form, "team") or None,
            )
        except GhartsError as error:
            context["error"] = error
        return page("_dry_run.html", context)

    @post("/provision")
    async def provision(
        self, request: Request[Any, Any, Any], dashboard: DashboardDep, viewer: ViewerDep
    ) -> Response[str]:
        """Provision the runner; show its JIT configuration and run command, once."""
        form = await request.form()
        dashboard.check_form(request, viewer, form)
        try:
            _check_group(await _teams(dashboard, viewer), form)
            provisioned = await dashboard.services.provisioning.provision_jit(
                viewer.principal, _command(form)
            )
        except GhartsError as error:
            return await self._form(dashboard, viewer, form, error=error)
        context = {"viewer": viewer, "active": "provision", "provisioned": provisioned}
        return page("provisioned.html", context, status=201)
