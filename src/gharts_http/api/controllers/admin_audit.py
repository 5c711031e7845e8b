"""Admin reads: the audit log (paged and exported), security events and statistics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, get
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream

from gharts_core.errors import ErrorCode
from gharts_core.model import AuditOutcome, SecurityEventType, Severity
from gharts_core.ports.storage import Page
from gharts_core.services.admin_audit import AuditQuery, SecurityEventQuery
from gharts_http.api.controllers._params import Limit, Offset, Since, Until, time_range
from gharts_http.api.dependencies import SECURITY, PrincipalDep, ServicesDep, admin_only
from gharts_http.api.errors import ADMIN_ONLY_ERRORS, error_responses
from gharts_http.api.schemas.audit import (
    AuditListResponse,
    ExportFormat,
    SecurityEventListResponse,
    StatsResponse,
)
from gharts_http.audit_export import AUDIT_MEDIA_TYPES, audit_file, audit_file_name

E = ErrorCode
_ADMIN = ADMIN_ONLY_ERRORS
_FILTERED = (*_ADMIN, E.VALIDATION_ERROR, E.TEAM_NOT_FOUND)


@dataclass
class _ExportOperation(Operation):
    """The export's OpenAPI operation: its 200 answer is a text file in either format."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            text = Schema(type=OpenAPIType.STRING)
            ok.content = {
                media: OpenAPIMediaType(schema=text) for media in AUDIT_MEDIA_TYPES.values()
            }


class AdminAuditController(Controller):
    """``/api/v1/admin``: audit log, security events, statistics (admins only)."""

    path = "/api/v1/admin"
    guards = [admin_only]
    tags = ["admin: audit"]
    security = SECURITY

    @get("/audit", summary="Search the audit log", responses=error_responses(*_FILTERED))
    async def list_audit(
        self,
        *,
        principal: PrincipalDep,
        services: ServicesDep,
        actor: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        team: FromQuery[str | None] = None,
        target: FromQuery[str | None] = None,
        outcome: FromQuery[AuditOutcome | None] = None,
        since: Since = None,
        until: Until = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> AuditListResponse:
        """One page of audit rows matching every filter given, newest first."""
        since_at, until_at = time_range(since, until)
        query = AuditQuery(actor, action, team, target, outcome, since_at, until_at)
        page = await services.audit.list_audit(principal, query, Page(limit=limit, offset=offset))
        return AuditListResponse.of(page)

    @get(
        "/audit/export",
        summary="Export the audit log (JSON Lines or CSV)",
        description="Streams every row matching the filters, newest first, as JSON Lines "
        "(application/x-ndjson) or CSV with a header row (text/csv). Rows recorded after the "
        "export started are left out.",
        response_description="The filtered audit log as a file attachment.",
        operation_class=_ExportOperation,
        responses=error_responses(*_FILTERED),
    )
    async def export_audit(
        self,
        *,
        principal: PrincipalDep,
        services: ServicesDep,
        format: Annotated[  # noqa: A002 - the API's parameter name
            ExportFormat, QueryParameter(description="jsonl or csv.")
        ] = ExportFormat.JSONL,
        actor: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        team: FromQuery[str | None] = None,
        target: FromQuery[str | None] = None,
        outcome: FromQuery[AuditOutcome | None] = None,
        since: Since = None,
        until: Until = None,
    ) -> Stream:
        """Check the caller and the filters, then stream the whole filtered log."""
        since_at, until_at = time_range(since, until)
        query = AuditQuery(actor, action, team, target, outcome, since_at, until_at)
        events = await services.audit.export_audit(principal, query)
        name = audit_file_name(services.clock.now(), format)
        return Stream(
            audit_file(events, format),
            media_type=AUDIT_MEDIA_TYPES[format],
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @get(
        "/security-events",
        summary="Search security events",
        responses=error_responses(*_FILTERED),
    )
    async def list_security_events(
        self,
        *,
        principal: PrincipalDep,
        services: ServicesDep,
        type: FromQuery[SecurityEventType | None] = None,  # noqa: A002 - the API's filter name
        severity: FromQuery[Severity | None] = None,
        team: FromQuery[str | None] = None,
        since: Since = None,
        until: Until = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> SecurityEventListResponse:
        """One page of security events matching every filter given, newest first."""
        since_at, until_at = time_range(since, until)
        query = SecurityEventQuery(type, severity, team, since_at, until_at)
        page = await services.audit.list_security_events(
            principal, query, Page(limit=limit, offset=offset)
        )
        return SecurityEventListResponse.of(page)

    @get("/stats", summary="Service statistics", responses=error_responses(*_ADMIN))
    async def stats(self, principal: PrincipalDep, services: ServicesDep) -> StatsResponse:
        """Runners by status and team, users, teams, clients and recent security events."""
        return StatsResponse.of(await services.audit.stats(principal))
