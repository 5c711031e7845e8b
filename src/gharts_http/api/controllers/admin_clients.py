"""Admin endpoints for machine clients: register, list, read, patch, disable, enable."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.openapi.spec import Operation, RequestBody
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter

from gharts_core.errors import ErrorCode
from gharts_core.ports.storage import Page
from gharts_core.services.admin_clients import ClientQuery
from gharts_http.api.controllers._params import Limit, Offset
from gharts_http.api.controllers.admin_users import ADMIN_ERRORS
from gharts_http.api.dependencies import SECURITY, PrincipalDep, ServicesDep, admin_only
from gharts_http.api.dto import CattrsBody
from gharts_http.api.errors import error_responses
from gharts_http.api.schemas.admin import (
    ClientListResponse,
    ClientResponse,
    CreateClientBody,
    DisableClientBody,
    UpdateClientBody,
)

E = ErrorCode
_ONE_CLIENT = (*ADMIN_ERRORS, E.CLIENT_NOT_FOUND)
ClientId = Annotated[uuid.UUID, PathParameter(description="The client's id.")]
_NO_REASON = DisableClientBody()


@dataclasses.dataclass
class _OptionalBodyOperation(Operation):
    """An operation whose request body may be left out (Litestar marks every body required)."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            self.request_body.required = False


class AdminClientController(Controller):
    """``/api/v1/admin/clients``: machine identities bound to one team each (admins only)."""

    path = "/api/v1/admin/clients"
    guards = [admin_only]
    tags = ["admin"]
    security = SECURITY

    @post(
        "/",
        dto=CattrsBody[CreateClientBody],
        return_dto=None,
        status_code=201,
        summary="Register a machine client",
        description="An (issuer, subject) pair, e.g. an M2M client id or "
        "system:serviceaccount:<namespace>:<name>, bound to one team. At most one client per "
        "(issuer, subject) is active; a team may have several.",
        responses=error_responses(*ADMIN_ERRORS, E.TEAM_NOT_FOUND, E.CONFLICT),
    )
    async def create_client(
        self, data: JSONBody[CreateClientBody], principal: PrincipalDep, services: ServicesDep
    ) -> ClientResponse:
        """Register a client; ``CONFLICT`` when an active one has the same identity."""
        return ClientResponse.of(await services.clients.create_client(principal, data.command()))

    @get(
        "/",
        summary="List machine clients",
        responses=error_responses(*ADMIN_ERRORS, E.TEAM_NOT_FOUND),
    )
    async def list_clients(
        self,
        *,
        principal: PrincipalDep,
        services: ServicesDep,
        team: Annotated[str | None, QueryParameter(description="Clients of this team.")] = None,
        issuer: Annotated[str | None, QueryParameter(description="Exact issuer URL.")] = None,
        is_active: FromQuery[bool | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> ClientListResponse:
        """One page of clients matching the filters, oldest first."""
        query = ClientQuery(team=team, issuer=issuer, is_active=is_active)
        page = await services.clients.list_clients(
            principal, query, Page(limit=limit, offset=offset)
        )
        return ClientListResponse.of(page)

    @get(
        "/{client_id:uuid}", summary="Get a machine client", responses=error_responses(*_ONE_CLIENT)
    )
    async def get_client(
        self, client_id: ClientId, principal: PrincipalDep, services: ServicesDep
    ) -> ClientResponse:
        """One client with its team."""
        return ClientResponse.of(await services.clients.get_client(principal, client_id))

    @patch(
        "/{client_id:uuid}",
        dto=CattrsBody[UpdateClientBody],
        return_dto=None,
        summary="Change a machine client",
        description="Only the fields sent change; team moves the client to another team.",
        responses=error_responses(*_ONE_CLIENT, E.TEAM_NOT_FOUND),
    )
    async def update_client(
        self,
        *,
        client_id: ClientId,
        data: JSONBody[UpdateClientBody],
        principal: PrincipalDep,
        services: ServicesDep,
    ) -> ClientResponse:
        """Apply the fields sent; a patch that changes nothing records nothing."""
        details = await services.clients.update_client(principal, client_id, data.command())
        return ClientResponse.of(details)

    @post(
        "/{client_id:uuid}/disable",
        dto=CattrsBody[DisableClientBody],
        return_dto=None,
        status_code=200,
        summary="Disable a machine client",
        operation_class=_OptionalBodyOperation,
        description="Its tokens are refused from now on. The body is optional; a reason goes to "
        "the audit log.",
        responses=error_responses(*_ONE_CLIENT),
    )
    async def disable_client(
        self,
        *,
        client_id: ClientId,
        principal: PrincipalDep,
        services: ServicesDep,
        data: JSONBody[DisableClientBody] = _NO_REASON,
    ) -> ClientResponse:
        """Disable the client; disabling a disabled client changes nothing."""
        details = await services.clients.disable_client(principal, client_id, data.reason)
        return ClientResponse.of(details)

    @post(
        "/{client_id:uuid}/enable",
        status_code=200,
        summary="Enable a machine client",
        description="CONFLICT when another active client has taken the same (issuer, subject).",
        responses=error_responses(*_ONE_CLIENT, E.CONFLICT),
    )
    async def enable_client(
        self, client_id: ClientId, principal: PrincipalDep, services: ServicesDep
    ) -> ClientResponse:
        """Accept the client's tokens again."""
        return ClientResponse.of(await services.clients.enable_client(principal, client_id))
