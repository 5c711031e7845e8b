"""Admin sync endpoints: the worker's status, and a request for a cycle now."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.openapi.datastructures import ResponseSpec

from gharts_core.errors import ErrorCode
from gharts_http.api.dependencies import SECURITY, PrincipalDep, ServicesDep, admin_only
from gharts_http.api.errors import ADMIN_ONLY_ERRORS, error_responses
from gharts_http.api.schemas.sync import (
    SyncCompletedResponse,
    SyncScheduledResponse,
    SyncStatusResponse,
)
from gharts_http.metrics.worker import WorkerMetrics
from gharts_http.worker import trigger_cycle

E = ErrorCode
_ADMIN = ADMIN_ONLY_ERRORS
_COMPLETED = ResponseSpec(
    data_container=SyncCompletedResponse,
    description="Nobody leads, so the cycle ran within the request: its report.",
    generate_examples=False,
)
_SCHEDULED = ResponseSpec(
    data_container=SyncScheduledResponse,
    description="A worker was asked for a cycle; it runs shortly.",
    generate_examples=False,
)


class AdminSyncController(Controller):
    """``/api/v1/admin/sync``: admins only."""

    path = "/api/v1/admin/sync"
    guards = [admin_only]
    tags = ["admin: sync"]
    security = SECURITY

    @get("/status", summary="Sync worker status", responses=error_responses(*_ADMIN))
    async def status(self, principal: PrincipalDep, services: ServicesDep) -> SyncStatusResponse:
        """Leader and heartbeat, the last cycle's counts and errors, the number of cycles."""
        state = await services.sync.admin_status(principal)
        return SyncStatusResponse.of(
            state,
            now=services.clock.now(),
            interval_seconds=services.settings.sync.interval_seconds,
            worker_in_process=services.sync_requests.listening,
        )

    @post(
        "/trigger",
        status_code=200,
        summary="Run a sync cycle now",
        description="202 when a worker (in this process, or the one leading elsewhere) was "
        "asked for a cycle; 200 with the report when nobody leads, so the cycle ran within the "
        "request; 409 CONFLICT when a process that cannot be asked is running one.",
        responses={
            200: _COMPLETED,
            202: _SCHEDULED,
            **error_responses(*_ADMIN, E.CONFLICT, E.GITHUB_RATE_LIMITED, E.GITHUB_UNAVAILABLE),
        },
    )
    async def trigger(
        self, principal: PrincipalDep, services: ServicesDep
    ) -> Response[SyncCompletedResponse | SyncScheduledResponse]:
        """Ask the worker for a cycle, or run one here when no worker leads."""
        report = await trigger_cycle(
            services.sync,
            principal,
            requests=services.sync_requests,
            database_url=services.settings.database.url,
            metrics=WorkerMetrics.of(services.metrics.registry),
        )
        if report is None:
            return Response(SyncScheduledResponse(), status_code=202)
        return Response(SyncCompletedResponse.of(report), status_code=200)
