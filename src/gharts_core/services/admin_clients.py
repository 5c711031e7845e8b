"""Admin use cases for machine clients: register, list, read, patch, disable, enable.

A machine client is an (issuer, subject) pair, such as an Auth0 M2M client id or a Kubernetes
service account, bound to exactly one team. At most one client per (issuer, subject) is active at
a time; a team may have several. Every method takes the acting principal first and refuses
non-admins; every change writes an audit row (attached to the client's team, so the team's members
see it) in the same unit of work. Disabling a disabled client or enabling an enabled one, and a
patch that changes nothing, record nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping

import attrs

from gharts_core.errors import ClientNotFound, Conflict, ValidationFailed
from gharts_core.model import (
    UNSET,
    AuditAction,
    Capabilities,
    MachineClient,
    Principal,
    Team,
    Unset,
    new_id,
)
from gharts_core.ports.clock import Clock
from gharts_core.ports.storage import ClientFilter, Page, PageResult, Store, UnitOfWork
from gharts_core.services._checks import (
    MAX_DESCRIPTION_LENGTH,
    check_description,
    check_optional_reason,
    check_text,
)
from gharts_core.services._events import audit_event
from gharts_core.services._lookups import require_admin, team_by_id, team_by_name
from gharts_core.services._patching import given
from gharts_core.services._snapshots import changed_fields, client_snapshot

__all__ = [
    "ClientAdminService",
    "ClientDetails",
    "ClientQuery",
    "CreateClient",
    "UpdateClient",
]

MAX_ISSUER_LENGTH = 2048
MAX_SUBJECT_LENGTH = 512


@attrs.frozen
class CreateClient:
    """Register a machine identity for a team (by name)."""

    issuer: str
    subject: str
    team: str
    description: str = ""
    can_use_jit: bool = True
    can_use_registration_token: bool = False


@attrs.frozen
class UpdateClient:
    """Change some of a client's fields; fields left :data:`UNSET` keep their value."""

    description: str | Unset = UNSET
    can_use_jit: bool | Unset = UNSET
    can_use_registration_token: bool | Unset = UNSET
    team: str | Unset = UNSET


@attrs.frozen
class ClientQuery:
    """Client list filters: team name, issuer, active flag."""

    team: str | None = None
    issuer: str | None = None
    is_active: bool | None = None


@attrs.frozen
class ClientDetails:
    """A machine client with the name of its team."""

    client: MachineClient
    team_name: str


def _issuer_problem(issuer: str, trusted: Collection[str] | None) -> str | None:
    """Why ``issuer`` cannot be a client's issuer, or ``None``: it must be trusted, exactly."""
    if trusted is None:
        scheme, _, rest = issuer.partition("://")
        if scheme not in ("https", "http") or not rest.strip("/"):
            return f"issuer must be the URL of a trusted issuer (got '{issuer}')."
        return None
    if issuer in trusted:
        return None
    near = [known for known in trusted if known.rstrip("/") == issuer.rstrip("/")]
    if near:
        return (
            f"issuer '{issuer}' differs from the trusted issuer '{near[0]}' by a trailing slash; "
            "tokens carry the configured form byte for byte."
        )
    listed = ", ".join(f"'{known}'" for known in sorted(trusted)) or "none is configured"
    return (
        f"issuer '{issuer}' is not a trusted issuer, so its tokens would be refused "
        f"(trusted: {listed})."
    )


def _check_client(command: CreateClient, trusted: Collection[str] | None) -> tuple[str, str, str]:
    errors: dict[str, str] = {}
    issuer = check_text(errors, "issuer", command.issuer, max_length=MAX_ISSUER_LENGTH)
    problem = None if "issuer" in errors else _issuer_problem(issuer, trusted)
    if problem is not None:
        errors["issuer"] = problem
    subject = check_text(errors, "subject", command.subject, max_length=MAX_SUBJECT_LENGTH)
    description = check_text(
        errors,
        "description",
        command.description,
        max_length=MAX_DESCRIPTION_LENGTH,
        required=False,
    )
    if errors:
        raise ValidationFailed(errors)
    return issuer, subject, description


class ClientAdminService:
    """Manage machine clients; every method needs an admin."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        trusted_issuers: Callable[[], Collection[str]] | None = None,
    ) -> None:
        """``trusted_issuers`` returns the issuers whose tokens are accepted.

        A new client's issuer must be one of them, byte for byte (a client of another issuer
        could never log in). Without it, an issuer need only be an http(s) URL.
        """
        self._store = store
        self._clock = clock
        self._trusted_issuers = trusted_issuers

    async def create_client(self, principal: Principal, command: CreateClient) -> ClientDetails:
        """Register a client; ``Conflict`` when an active one has the same (issuer, subject)."""
        await require_admin(self._store, self._clock, principal, "client.create")
        trusted = None if self._trusted_issuers is None else self._trusted_issuers()
        issuer, subject, description = _check_client(command, trusted)
        async with self._store.unit_of_work() as uow:
            team = await team_by_name(uow, command.team)
            await self._ensure_unique(uow, issuer, subject, None)
            now = self._clock.now()
            client = MachineClient(
                id=new_id(),
                issuer=issuer,
                subject=subject,
                team_id=team.id,
                description=description,
                capabilities=Capabilities(command.can_use_jit, command.can_use_registration_token),
                is_active=True,
                created_at=now,
                updated_at=now,
            )
            await uow.clients.add(client)
            details = {"client": client_snapshot(client, team.name)}
            await self._audit(
                uow, principal, AuditAction.CLIENT_CREATE, client, team=team, details=details
            )
        return ClientDetails(client, team.name)

    async def get_client(self, principal: Principal, client_id: uuid.UUID) -> ClientDetails:
        """Return one client; ``ClientNotFound`` when there is none."""
        await require_admin(self._store, self._clock, principal, "client.get")
        async with self._store.unit_of_work() as uow:
            client = await self._client(uow, client_id)
            return ClientDetails(client, (await team_by_id(uow, client.team_id)).name)

    async def list_clients(
        self, principal: Principal, query: ClientQuery | None = None, page: Page | None = None
    ) -> PageResult[ClientDetails]:
        """Return one page of clients matching the filters, oldest first."""
        await require_admin(self._store, self._clock, principal, "client.list")
        query = query or ClientQuery()
        async with self._store.unit_of_work() as uow:
            team_id = None if query.team is None else (await team_by_name(uow, query.team)).id
            found = await uow.clients.list(
                ClientFilter(team_id=team_id, issuer=query.issuer, is_active=query.is_active),
                page or Page(),
            )
            names: dict[uuid.UUID, str] = {}
            for client in found.items:
                if client.team_id not in names:
                    names[client.team_id] = (await team_by_id(uow, client.team_id)).name
        items = tuple(ClientDetails(c, names[c.team_id]) for c in found.items)
        return PageResult(items=items, total=found.total)

    async def update_client(
        self, principal: Principal, client_id: uuid.UUID, command: UpdateClient
    ) -> ClientDetails:
        """Apply the given fields; moving a client to another team needs that team to exist."""
        await require_admin(self._store, self._clock, principal, "client.update")
        description = (
            UNSET if command.description is UNSET else check_description(command.description)
        )
        async with self._store.unit_of_work() as uow:
            current = await self._client(uow, client_id)
            old_team = await team_by_id(uow, current.team_id)
            team = old_team if command.team is UNSET else await team_by_name(uow, command.team)
            caps = current.capabilities
            updated = attrs.evolve(
                current,
                description=given(description, current.description),
                team_id=team.id,
                capabilities=Capabilities(
                    given(command.can_use_jit, caps.can_use_jit),
                    given(command.can_use_registration_token, caps.can_use_registration_token),
                ),
            )
            return await self._save(uow, principal, (current, old_team), (updated, team))

    async def disable_client(
        self, principal: Principal, client_id: uuid.UUID, reason: str | None = None
    ) -> ClientDetails:
        """Refuse the client's tokens from now on; ``reason`` goes to the audit row."""
        await require_admin(self._store, self._clock, principal, "client.disable")
        reason = check_optional_reason(reason)
        async with self._store.unit_of_work() as uow:
            current = await self._client(uow, client_id)
            team = await team_by_id(uow, current.team_id)
            updated = attrs.evolve(current, is_active=False)
            return await self._save(
                uow,
                principal,
                (current, team),
                (updated, team),
                action=AuditAction.CLIENT_DISABLE,
                reason=reason,
            )

    async def enable_client(self, principal: Principal, client_id: uuid.UUID) -> ClientDetails:
        """Accept the client's tokens again; ``Conflict`` when another client took its identity."""
        await require_admin(self._store, self._clock, principal, "client.enable")
        async with self._store.unit_of_work() as uow:
            current = await self._client(uow, client_id)
            team = await team_by_id(uow, current.team_id)
            await self._ensure_unique(uow, current.issuer, current.subject, current.id)
            updated = attrs.evolve(current, is_active=True)
            return await self._save(
                uow, principal, (current, team), (updated, team), action=AuditAction.CLIENT_ENABLE
            )

    async def _client(self, uow: UnitOfWork, client_id: uuid.UUID) -> MachineClient:
        client = await uow.clients.get(client_id)
        if client is None:
            raise ClientNotFound(str(client_id))
        return client

    async def _ensure_unique(
        self, uow: UnitOfWork, issuer: str, subject: str, client_id: uuid.UUID | None
    ) -> None:
        active = await uow.clients.get_active(issuer, subject)
        if active is not None and active.id != client_id:
            raise Conflict(
                f"An active client for issuer '{issuer}' and subject '{subject}' already exists "
                f"({active.id}); disable it first."
            )

    async def _save(
        self,
        uow: UnitOfWork,
        principal: Principal,
        before: tuple[MachineClient, Team],
        after: tuple[MachineClient, Team],
        *,
        action: AuditAction = AuditAction.CLIENT_UPDATE,
        reason: str | None = None,
    ) -> ClientDetails:
        (current, old_team), (updated, team) = before, after
        old, new = client_snapshot(current, old_team.name), client_snapshot(updated, team.name)
        changed = changed_fields(old, new)
        if not changed:
            return ClientDetails(current, old_team.name)
        updated = attrs.evolve(updated, updated_at=self._clock.now())
        await uow.clients.update(updated)
        details: dict[str, object] = {"before": old, "after": new, "changed": changed}
        if reason is not None:
            details["reason"] = reason
        await self._audit(uow, principal, action, updated, team=team, details=details)
        return ClientDetails(updated, team.name)

    async def _audit(
        self,
        uow: UnitOfWork,
        principal: Principal,
        action: AuditAction,
        client: MachineClient,
        *,
        team: Team,
        details: Mapping[str, object],
    ) -> None:
        await uow.audit.append(
            audit_event(
                self._clock,
                principal.actor,
                action,
                target_type="client",
                target_id=client.id,
                team=team,
                details={"issuer": client.issuer, "subject": client.subject, **details},
            )
        )
