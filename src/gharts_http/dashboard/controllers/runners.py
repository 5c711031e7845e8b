"""The runners pages: the list with filters and paging, one runner's detail, refresh, delete.

Batch deprovision: the list's checkboxes send the chosen runners to ``/runners/deprovision``
(a plain GET form, so it works without JavaScript), which lists the ones that would be removed;
its POST deprovisions each through the same service call as a single delete, and says what
became of every one (a runner another person may not see stays the 404 it always is).
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from gharts_core.errors import GhartsError, RunnerNotFound, ValidationFailed
from gharts_core.model import RunnerRecord, RunnerStatus
from gharts_core.ports.storage import Page
from gharts_core.services.runners import RunnerQuery
from gharts_http.dashboard.context import Dashboard, DashboardDep, ViewerDep
from gharts_http.dashboard.controllers._admin_forms import PAGE_SIZE, listing, offset_of, team_names
from gharts_http.dashboard.controllers._path_ids import path_id
from gharts_http.dashboard.pages import page, redirect
from gharts_http.dashboard.sessions import Viewer

MAX_BATCH = 100
STATUSES = tuple(status.value for status in RunnerStatus)


def _chosen(values: list[str]) -> list[uuid.UUID]:
    """Return the chosen runner ids, each once, in the order given."""
    ids = list(dict.fromkeys(path_id(value, RunnerNotFound) for value in values if value))
    if not ids:
        raise ValidationFailed({"runner": "choose at least one runner"}, "No runner was chosen.")
    if len(ids) > MAX_BATCH:
        raise ValidationFailed({"runner": f"at most {MAX_BATCH} runners at once"})
    return ids


async def _visible(
    dashboard: Dashboard, viewer: Viewer, ids: list[uuid.UUID]
) -> list[RunnerRecord]:
    return [await dashboard.services.runners.get(viewer.principal, runner_id) for runner_id in ids]


def _status(value: str | None) -> RunnerStatus | None:
    if not value:
        return None
    try:
        return RunnerStatus(value)
    except ValueError:
        raise ValidationFailed({"status": f"one of {', '.join(STATUSES)}"}) from None


class RunnerPages(Controller):
    """``/``: the runners this person may see; ``/runners/{id}``: one of them."""

    include_in_schema = False

    @get("/")
    async def runners(
        self,
        request: Request[Any, Any, Any],
        dashboard: DashboardDep,
        viewer: ViewerDep,
        *,
        team: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        label: FromQuery[str | None] = None,
        page_number: FromQuery[int] = 1,
    ) -> Response[str]:
        """List the visible live runners, newest first, filtered and paged."""
        number, offset = offset_of(page_number)
        query = RunnerQuery(
            status=_status(status),
            team_name=team or None,
            label=label.strip() or None if label else None,
            include_deleted=status == RunnerStatus.DELETED.value,
        )
        found = await dashboard.services.runners.list(
            viewer.principal, query, Page(limit=PAGE_SIZE, offset=offset)
        )
        filters = {"team": team or "", "status": status or "", "label": label or ""}
        context = {
            "viewer": viewer,
            "active": "runners",
            "runners": found.items,
            "teams": await team_names(dashboard, viewer),
            "statuses": STATUSES,
            "live_url": "/events/runners",
            **listing("/", filters, number, found.total),
        }
        # The live update asks for the table alone.
        fragment = request.headers.get("x-dashboard-fragment") == "runners"
        return page("_runner_table.html" if fragment else "runners.html", context)

    @get("/runners/{runner_id:str}")
    async def runner(
        self, dashboard: DashboardDep, viewer: ViewerDep, runner_id: FromPath[str]
    ) -> Response[str]:
        """Show one runner with its history of status changes."""
        services = dashboard.services
        runner = await services.runners.get(viewer.principal, path_id(runner_id, RunnerNotFound))
        async with services.store.unit_of_work(read_only=True) as uow:
            history = await uow.runners.transitions(runner.id)
        context = {
            "viewer": viewer,
            "active": "runners",
            "runner": runner,
            "history": history,
            "live_url": "/events/runners",
        }
        return page("runner.html", context)

    @post("/runners/{runner_id:str}/refresh", status_code=303)
    async def refresh(
        self,
        request: Request[Any, Any, Any],
        dashboard: DashboardDep,
        viewer: ViewerDep,
        runner_id: FromPath[str],
    ) -> Response[str]:
        """Re-read the runner from GitHub now, then show it again."""
        dashboard.check_form(request, viewer, await request.form())
        runner = await dashboard.services.runners.refresh(
            viewer.principal, path_id(runner_id, RunnerNotFound)
        )
        return redirect(f"/runners/{runner.runner.id}")

    @get("/runners/{runner_id:str}/delete")
    async def confirm_delete(
        self, dashboard: DashboardDep, viewer: ViewerDep, runner_id: FromPath[str]
    ) -> Response[str]:
        """Ask for confirmation before deleting a runner."""
        runner = await dashboard.services.runners.get(
            viewer.principal, path_id(runner_id, RunnerNotFound)
        )
        return page("runner_delete.html", {"viewer": viewer, "active": "runners", "runner": runner})

    @post("/runners/{runner_id:str}/delete", status_code=303)
    async def delete(
        self,
        request: Request[Any, Any, Any],
        dashboard: DashboardDep,
        viewer: ViewerDep,
        runner_id: FromPath[str],
    ) -> Response[str]:
        """Deprovision the runner (GitHub first, then the record), then show it."""
        dashboard.check_form(request, viewer, await request.form())
        runner = await dashboard.services.runners.deprovision(
            viewer.principal, path_id(runner_id, RunnerNotFound)
        )
        return redirect(f"/runners/{runner.id}")

    @get("/runners/deprovision")
    async def confirm_batch(
        self,
        dashboard: DashboardDep,
        viewer: ViewerDep,
        *,
        runner: FromQuery[list[str] | None] = None,
    ) -> Response[str]:
        """List the chosen runners and how many would be removed; ask for confirmation."""
        runners = await _visible(dashboard, viewer, _chosen(runner or []))
        live = [r for r in runners if r.status is not RunnerStatus.DELETED]
        gone = [r for r in runners if r.status is RunnerStatus.DELETED]
        context = {"viewer": viewer, "active": "runners", "live": live, "gone": gone}
        return page("runner_batch.html", context)

    @post("/runners/deprovision", status_code=200)
    async def deprovision_batch(
        self, request: Request[Any, Any, Any], dashboard: DashboardDep, viewer: ViewerDep
    ) -> Response[str]:
        """Deprovision every chosen runner; say which were removed and which failed, and why."""
        form = await request.form()
        dashboard.check_form(request, viewer, form)
        ids = _chosen([str(value) for value in form.getall("runner", [])])
        runners = await _visible(dashboard, viewer, ids)
        outcomes: list[dict[str, object]] = []
        for record in runners:
            try:
                done = await dashboard.services.runners.deprovision(viewer.principal, record.id)
            except GhartsError as error:
                outcomes.append({"runner": record, "error": error.detail, "code": error.code.value})
            else:
                outcomes.append({"runner": done, "error": None, "code": None})
        failed = sum(1 for outcome in outcomes if outcome["error"])
        context = {
            "viewer": viewer,
            "active": "runners",
            "outcomes": outcomes,
            "removed": len(outcomes) - failed,
            "failed": failed,
        }
        return page("runner_batch_done.html", context)
