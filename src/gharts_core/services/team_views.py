"""Read access for team members: their teams, and each team's audit log and security events.

A user sees the teams it belongs to, a machine client its one team, an admin every team. Naming
an existing team the caller does not belong to is ``NotTeamMember`` (recorded as a security
event), an unknown name ``TeamNotFound``: the same answers provisioning gives for a named team,
so these endpoints reveal nothing provisioning does not.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from gharts_core import authz
from gharts_core.model import (
    AuditEvent,
    AuditOutcome,
    Principal,
    SecurityEvent,
    SecurityEventType,
    Severity,
    Team,
)
from gharts_core.ports.clock import Clock
from gharts_core.ports.storage import Page, PageResult, Store, TeamFilter
from gharts_core.services._lookups import require_team_reader, team_by_name
from gharts_core.services.admin_audit import (
    AuditQuery,
    SecurityEventQuery,
    audit_filter,
    security_event_filter,
)

__all__ = ["TeamAuditQuery", "TeamSecurityEventQuery", "TeamViewService"]


@attrs.frozen
class TeamAuditQuery:
    """Filters of one team's audit log: actor name, action, target id, outcome, time range."""

    actor: str | None = None
    action: str | None = None
    target: str | None = None
    outcome: AuditOutcome | None = None
    since: datetime | None = None
    until: datetime | None = None


@attrs.frozen
class TeamSecurityEventQuery:
    """Filters of one team's security events: type, severity, time range."""

    type: SecurityEventType | None = None
    severity: Severity | None = None
    since: datetime | None = None
    until: datetime | None = None


class TeamViewService:
    """What any authenticated principal may read about its own teams."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def list_teams(self, principal: Principal, page: Page | None = None) -> PageResult[Team]:
        """Return one page of the teams the principal may read (every team for admins)."""
        visible = authz.visible_team_ids(principal)
        async with self._store.unit_of_work(read_only=True) as uow:
            return await uow.teams.list(TeamFilter(team_ids=visible), page or Page())

    async def get_team(self, principal: Principal, name: str) -> Team:
        """Return one team the principal may read; ``TeamNotFound`` or ``NotTeamMember``."""
        return await self._readable(principal, name, "team.get")

    async def team_audit(
        self,
        principal: Principal,
        name: str,
        query: TeamAuditQuery | None = None,
        page: Page | None = None,
    ) -> PageResult[AuditEvent]:
        """Return one page of the team's audit rows, newest first."""
        team = await self._readable(principal, name, "team.audit")
        found = audit_filter(
            AuditQuery(**attrs.asdict(query or TeamAuditQuery(), recurse=False)), team.id
        )
        async with self._store.unit_of_work(read_only=True) as uow:
            return await uow.audit.list(found, page or Page())

    async def team_security_events(
        self,
        principal: Principal,
        name: str,
        query: TeamSecurityEventQuery | None = None,
        page: Page | None = None,
    ) -> PageResult[SecurityEvent]:
        """Return one page of the team's security events, newest first."""
        team = await self._readable(principal, name, "team.security_events")
        fields = attrs.asdict(query or TeamSecurityEventQuery(), recurse=False)
        found = security_event_filter(SecurityEventQuery(**fields), team.id)
        async with self._store.unit_of_work(read_only=True) as uow:
            return await uow.security_events.list(found, page or Page())

    async def _readable(self, principal: Principal, name: str, operation: str) -> Team:
        async with self._store.unit_of_work(read_only=True) as uow:
            team = await team_by_name(uow, name)
        await require_team_reader(self._store, self._clock, principal, team, operation)
        return team
