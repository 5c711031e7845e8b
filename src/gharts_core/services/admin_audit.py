"""Admin read use cases: the audit log (query and export), security events, and statistics.

Every method takes the acting principal first and refuses non-admins. Teams in filters are named;
an unknown name is ``TeamNotFound``. Time ranges are ``since`` inclusive, ``until`` exclusive.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta

import attrs

from gharts_core.errors import ValidationFailed
from gharts_core.model import (
    AuditAction,
    AuditEvent,
    AuditOutcome,
    Principal,
    RunnerStatus,
    SecurityEvent,
    SecurityEventType,
    Severity,
)
from gharts_core.ports.clock import Clock
from gharts_core.ports.storage import (
    MAX_PAGE_SIZE,
    AuditFilter,
    ClientFilter,
    Page,
    PageResult,
    SecurityEventFilter,
    Store,
    TeamFilter,
    UnitOfWork,
    UserFilter,
)
from gharts_core.services._checks import check_time_range
from gharts_core.services._lookups import require_admin, team_by_name

__all__ = [
    "AuditAdminService",
    "AuditQuery",
    "SecurityEventQuery",
    "Stats",
    "audit_filter",
    "security_event_filter",
]

RECENT_WINDOW = timedelta(hours=24)
_ACTIONS = frozenset(action.value for action in AuditAction)
_ONE_TICK = timedelta(microseconds=1)


@attrs.frozen
class AuditQuery:
    """Audit log filters: actor name, action, team name, target id, outcome, time range."""

    actor: str | None = None
    action: str | None = None
    team: str | None = None
    target: str | None = None
    outcome: AuditOutcome | None = None
    since: datetime | None = None
    until: datetime | None = None


@attrs.frozen
class SecurityEventQuery:
    """Security event filters: type, severity, team name, time range."""

    type: SecurityEventType | None = None
    severity: Severity | None = None
    team: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@attrs.frozen
class Stats:
    """Counts for the admin dashboard; runner counts exclude deleted runners."""

    generated_at: datetime
    runners_by_status: Mapping[RunnerStatus, int]
    runners_by_team: Mapping[str, Mapping[RunnerStatus, int]]
    users: int
    active_users: int
    active_admins: int
    teams: int
    active_teams: int
    clients: int
    active_clients: int
    recent_violations: int
    recent_since: datetime

    @property
    def live_runners(self) -> int:
        """How many runners count towards some team's quota."""
        return sum(self.runners_by_status.values())


def audit_filter(query: AuditQuery, team_id: uuid.UUID | None) -> AuditFilter:
    """Return the storage filter for a query whose team name resolved to ``team_id``."""
    if query.action is not None and query.action not in _ACTIONS:
        raise ValidationFailed({"action": f"action must be one of: {', '.join(sorted(_ACTIONS))}."})
    check_time_range(query.since, query.until)
    return AuditFilter(
        actor=query.actor,
        action=query.action,
        team_id=team_id,
        target_id=query.target,
        outcome=query.outcome,
        since=query.since,
        until=query.until,
    )


def security_event_filter(
    query: SecurityEventQuery, team_id: uuid.UUID | None
) -> SecurityEventFilter:
    """Return the storage filter for a query whose team name resolved to ``team_id``."""
    check_time_range(query.since, query.until)
    return SecurityEventFilter(
        type=query.type,
        severity=query.severity,
        team_id=team_id,
        since=query.since,
        until=query.until,
    )


async def _team_id(uow: UnitOfWork, name: str | None) -> uuid.UUID | None:
    return None if name is None else (await team_by_name(uow, name)).id


class AuditAdminService:
    """Read the audit log, the security events and the service's statistics (admins only)."""

    def __init__(self, store: Store, clock: Clock, *, recent_window: timedelta = RECENT_WINDOW):
        self._store = store
        self._clock = clock
        self._recent_window = recent_window

    async def list_audit(
        self, principal: Principal, query: AuditQuery | None = None, page: Page | None = None
    ) -> PageResult[AuditEvent]:
        """Return one page of audit rows matching the filters, newest first."""
        await require_admin(self._store, self._clock, principal, "audit.list")
        query = query or AuditQuery()
        async with self._store.unit_of_work(read_only=True) as uow:
            found = audit_filter(query, await _team_id(uow, query.team))
            return await uow.audit.list(found, page or Page())

    async def export_audit(
        self, principal: Principal, query: AuditQuery | None = None, *, page_size: int = 500
    ) -> AsyncIterator[AuditEvent]:
        """Check the caller and the filters now, then return an iterator over every match.

        Awaiting this raises before anything is streamed; the iterator then reads page after page
        (newest first), each page in its own unit of work. Rows recorded after the export started
        are left out, so that they cannot shift the pages being read.
        """
        await require_admin(self._store, self._clock, principal, "audit.export")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValidationFailed({"page_size": f"page_size must be 1-{MAX_PAGE_SIZE}."})
        query = query or AuditQuery()
        async with self._store.unit_of_work(read_only=True) as uow:
            found = audit_filter(query, await _team_id(uow, query.team))
        bound = self._clock.now() + _ONE_TICK
        if found.until is None or found.until > bound:
            found = attrs.evolve(found, until=bound)
        return self._pages(found, page_size)

    async def _pages(self, found: AuditFilter, page_size: int) -> AsyncIterator[AuditEvent]:
        offset = 0
        while True:
            async with self._store.unit_of_work(read_only=True) as uow:
                result = await uow.audit.list(found, Page(limit=page_size, offset=offset))
            for event in result.items:
                yield event
            offset += len(result.items)
            if len(result.items) < page_size or offset >= result.total:
                return

    async def list_security_events(
        self,
        principal: Principal,
        query: SecurityEventQuery | None = None,
        page: Page | None = None,
    ) -> PageResult[SecurityEvent]:
        """Return one page of security events matching the filters, newest first."""
        await require_admin(self._store, self._clock, principal, "security_events.list")
        query = query or SecurityEventQuery()
        async with self._store.unit_of_work(read_only=True) as uow:
            found = security_event_filter(query, await _team_id(uow, query.team))
            return await uow.security_events.list(found, page or Page())

    async def stats(self, principal: Principal) -> Stats:
        """Return runner counts by status and team, users, teams, clients, recent violations."""
        await require_admin(self._store, self._clock, principal, "stats")
        now = self._clock.now()
        since = now - self._recent_window
        one = Page(limit=1)
        async with self._store.unit_of_work(read_only=True) as uow:
            counts = await uow.runners.count_by_team_and_status()
            users = (await uow.users.list(UserFilter(), one)).total
            active_users = (await uow.users.list(UserFilter(is_active=True), one)).total
            admins = await uow.users.count_active_admins()
            teams = (await uow.teams.list(TeamFilter(), one)).total
            active_teams = (await uow.teams.list(TeamFilter(is_active=True), one)).total
            clients = (await uow.clients.list(ClientFilter(), one)).total
            active_clients = (await uow.clients.list(ClientFilter(is_active=True), one)).total
            recent = await uow.security_events.count_since(since)
        by_status = {status: 0 for status in RunnerStatus if status.is_live}
        by_team: dict[str, dict[RunnerStatus, int]] = {}
        for (team, status), count in sorted(counts.items()):
            by_status[status] = by_status.get(status, 0) + count
            by_team.setdefault(team, {})[status] = count
        return Stats(
            generated_at=now,
            runners_by_status=by_status,
            runners_by_team=by_team,
            users=users,
            active_users=active_users,
            active_admins=admins,
            teams=teams,
            active_teams=active_teams,
            clients=clients,
            active_clients=active_clients,
            recent_violations=recent,
            recent_since=since,
        )
