"""Append-only logs (audit, security events), the worker's sync state and webhook deliveries.

The audit and security repositories deliberately have no update or delete: only the retention
purge removes rows.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Executable, Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from gharts_adapters.storage import convert
from gharts_adapters.storage.errors import translating
from gharts_adapters.storage.repositories.base import SqlRepository
from gharts_adapters.storage.tables import (
    audit_events,
    security_events,
    sync_listed_pages,
    sync_state,
    webhook_deliveries,
)
from gharts_core.errors import Conflict
from gharts_core.model import AuditEvent, SecurityEvent, SyncState
from gharts_core.ports.github import ListedPage
from gharts_core.ports.storage import AuditFilter, Page, PageResult, SecurityEventFilter


def _time_range(
    table: Table, since: datetime | None, until: datetime | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if since is not None:
        where.append(table.c.at >= since)
    if until is not None:
        where.append(table.c.at < until)
    return where


@functools.cache
def _appending(dialect: str, table: Table) -> Executable:
    """Return the ``INSERT ... ON CONFLICT (id) DO NOTHING`` of one row of ``table``.

    Built once, its values bound at execution: SQLAlchemy then finds the compiled statement by a
    memoised cache key instead of walking a new statement's values on every request.
    """
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return insert.on_conflict_do_nothing(index_elements=[table.c.id])


class _AppendOnly(SqlRepository):
    async def _append(self, table: Table, row: dict[str, Any]) -> None:
        # ON CONFLICT rather than a SAVEPOINT: appends happen on every request.
        result = await self._connection.execute(_appending(self._dialect, table), row)
        if result.rowcount != 1:
            raise Conflict(f"An event with id '{row['id']}' already exists.")


_NEWEST = (audit_events.c.at.desc(), audit_events.c.seq.desc())


def _audit_where(query: AuditFilter) -> list[ColumnElement[bool]]:
    t = audit_events.c
    where = _time_range(audit_events, query.since, query.until)
    if query.actor is not None:
        where.append(t.actor_name == query.actor)
    if query.action is not None:
        where.append(t.action == query.action)
    if query.team_id is not None:
        where.append(t.team_id == query.team_id)
    if query.target_id is not None:
        where.append(t.target_id == query.target_id)
    if query.outcome is not None:
        where.append(t.outcome == query.outcome.value)
    return where


class SqlAuditRepository(_AppendOnly):
    """The append-only audit log."""

    @translating
    async def append(self, event: AuditEvent) -> None:
        """Add one audit row."""
        await self._append(audit_events, convert.audit_row(event))

    @translating
    async def list(self, query: AuditFilter, page: Page) -> PageResult[AuditEvent]:
        """Return one page of audit rows matching the filter, newest first."""
        return await self._page(audit_events, _audit_where(query), _NEWEST, page, convert.to_audit)

    @translating
    async def newest(self, query: AuditFilter, limit: int) -> Sequence[AuditEvent]:
        """Return at most ``limit`` rows matching the filter, newest first, in one statement."""
        statement = select(audit_events).where(*_audit_where(query)).order_by(*_NEWEST)
        return [convert.to_audit(row) for row in await self._all(statement.limit(limit))]

    @translating
    async def purge_before(self, cutoff: datetime) -> int:
        """Delete rows older than ``cutoff`` (retention); return how many."""
        result = await self._execute(delete(audit_events).where(audit_events.c.at < cutoff))
        return result.rowcount


class SqlSecurityEventRepository(_AppendOnly):
    """The append-only security event log."""

    @translating
    async def append(self, event: SecurityEvent) -> None:
        """Add one security event."""
        await self._append(security_events, convert.security_row(event))

    @translating
    async def list(self, query: SecurityEventFilter, page: Page) -> PageResult[SecurityEvent]:
        """Return one page of security events matching the filter, newest first."""
        t = security_events.c
        where = _time_range(security_events, query.since, query.until)
        if query.type is not None:
            where.append(t.type == query.type.value)
        if query.severity is not None:
            where.append(t.severity == query.severity.value)
        if query.team_id is not None:
            where.append(t.team_id == query.team_id)
        order = [t.at.desc(), t.seq.desc()]
        return await self._page(security_events, where, order, page, convert.to_security)

    @translating
    async def count_since(self, since: datetime) -> int:
        """Return how many security events happened at or after ``since``."""
        count = await self._connection.scalar(
            select(func.count()).select_from(security_events).where(security_events.c.at >= since)
        )
        return count or 0


class SqlSyncStateRepository(SqlRepository):
    """The worker's shared state: one row."""

    @translating
    async def get(self) -> SyncState:
        """Return the current sync state (an empty one before the first cycle)."""
        row = await self._first(select(sync_state).where(sync_state.c.id == 1))
        return SyncState() if row is None else convert.to_sync_state(row)

    @translating
    async def save(self, state: SyncState) -> None:
        """Replace the sync state."""
        values = convert.sync_state_row(state)
        statement = self._insert(sync_state).values(values)
        await self._execute(
            statement.on_conflict_do_update(
                index_elements=[sync_state.c.id],
                set_={key: value for key, value in values.items() if key != "id"},
            )
        )

    @translating
    async def listed_pages(self) -> Sequence[ListedPage]:
        """Return the runner listing's pages as the last cycle kept them, in listing order."""
        statement = select(sync_listed_pages).order_by(sync_listed_pages.c.position)
        return await self._all_converted(statement, convert.to_listed_page)

    @translating
    async def save_listed_pages(self, pages: Sequence[ListedPage]) -> int:
        """Keep exactly ``pages``: one read of (url, position, etag), then only what differs."""
        t = sync_listed_pages.c
        kept = {
            url: (position, etag)
            for url, position, etag in await self._connection.execute(
                select(t.url, t.position, t.etag)
            )
        }
        rows = [convert.listed_page_row(page, position) for position, page in enumerate(pages)]
        changed = [row for row in rows if kept.get(row["url"]) != (row["position"], row["etag"])]
        gone = kept.keys() - {row["url"] for row in rows}
        if gone:
            await self._execute(delete(sync_listed_pages).where(t.url.in_(sorted(gone))))
        if changed:
            await self._execute(
                delete(sync_listed_pages).where(t.url.in_([r["url"] for r in changed]))
            )
            await self._connection.execute(sync_listed_pages.insert(), changed)
        return len(changed) + len(gone)


class SqlWebhookDeliveryRepository(SqlRepository):
    """Seen ``X-GitHub-Delivery`` ids."""

    @translating
    async def seen(self, delivery_id: str) -> bool:
        """Return whether the delivery has been recorded."""
        statement = select(webhook_deliveries.c.delivery_id).where(
            webhook_deliveries.c.delivery_id == delivery_id
        )
        return (await self._execute(statement)).first() is not None

    @translating
    async def record(self, delivery_id: str, received_at: datetime) -> bool:
        """Remember a delivery; return ``False`` when it had been seen before."""
        result = await self._execute(
            self._insert(webhook_deliveries)
            .values(delivery_id=delivery_id, received_at=received_at)
            .on_conflict_do_nothing()
        )
        return result.rowcount == 1

    @translating
    async def purge_before(self, cutoff: datetime) -> int:
        """Forget deliveries older than ``cutoff``; return how many."""
        result = await self._execute(
            delete(webhook_deliveries).where(webhook_deliveries.c.received_at < cutoff)
        )
        return result.rowcount
