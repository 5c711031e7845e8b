"""In-memory append-only logs (audit, security events), the sync state and webhook deliveries.

As in the SQL adapter, the audit and security logs have no update or delete: only the audit
retention purge removes rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import attrs

from gharts_core.errors import Conflict
from gharts_core.model import AuditEvent, SecurityEvent, SyncState
from gharts_core.ports.github import ListedPage
from gharts_core.ports.storage import AuditFilter, Page, PageResult, SecurityEventFilter
from gharts_core.testing._fake_state import FakeRepository, newest_first, one_page


def _json_round_trip(value: Any) -> Any:
    # The SQL adapter stores details as JSON: mimic it, and refuse what JSON cannot hold.
    return json.loads(json.dumps(value))


def _in_range(at: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or at >= since) and (until is None or at < until)


class FakeAuditRepository(FakeRepository):
    """The append-only audit log."""

    async def append(self, event: AuditEvent) -> None:
        """Add one audit row."""
        if any(e.id == event.id for e in self._s.audit):
            raise Conflict(f"An audit row with id '{event.id}' already exists.")
        self._s.audit.append(attrs.evolve(event, details=_json_round_trip(event.details)))
        self._s.writes += 1

    async def list(self, query: AuditFilter, page: Page) -> PageResult[AuditEvent]:
        """Return one page of audit rows matching the filter, newest first."""
        return one_page(newest_first(self._matching(query), lambda e: e.at), page)

    async def newest(self, query: AuditFilter, limit: int) -> Sequence[AuditEvent]:
        """Return at most ``limit`` rows matching the filter, newest first."""
        return newest_first(self._matching(query), lambda e: e.at)[:limit]

    def _matching(self, query: AuditFilter) -> Iterator[AuditEvent]:
        return (
            e
            for e in reversed(self._s.audit)
            if (query.actor is None or e.actor.name == query.actor)
            and (query.action is None or e.action == query.action)
            and (query.team_id is None or e.team_id == query.team_id)
            and (query.target_id is None or e.target_id == query.target_id)
            and (query.outcome is None or e.outcome is query.outcome)
            and _in_range(e.at, query.since, query.until)
        )

    async def purge_before(self, cutoff: datetime) -> int:
        """Delete rows older than ``cutoff`` (retention); return how many."""
        kept = [e for e in self._s.audit if e.at >= cutoff]
        purged = len(self._s.audit) - len(kept)
        self._s.audit = kept
        self._s.writes += 1 if purged else 0
        return purged


class FakeSecurityEventRepository(FakeRepository):
    """The append-only security event log."""

    async def append(self, event: SecurityEvent) -> None:
        """Add one security event."""
        if any(e.id == event.id for e in self._s.security_events):
            raise Conflict(f"A security event with id '{event.id}' already exists.")
        self._s.security_events.append(attrs.evolve(event, details=_json_round_trip(event.details)))
        self._s.writes += 1

    async def list(self, query: SecurityEventFilter, page: Page) -> PageResult[SecurityEvent]:
        """Return one page of security events matching the filter, newest first."""
        found = (
            e
            for e in reversed(self._s.security_events)
            if (query.type is None or e.type is query.type)
            and (query.severity is None or e.severity is query.severity)
            and (query.team_id is None or e.team_id == query.team_id)
            and _in_range(e.at, query.since, query.until)
        )
        return one_page(newest_first(found, lambda e: e.at), page)

    async def count_since(self, since: datetime) -> int:
        """Return how many security events happened at or after ``since``."""
        return sum(1 for e in self._s.security_events if e.at >= since)


class FakeSyncStateRepository(FakeRepository):
    """The worker's shared state."""

    async def get(self) -> SyncState:
        """Return the current sync state (an empty one before the first cycle)."""
        return self._s.sync_state

    async def save(self, state: SyncState) -> None:
        """Replace the sync state."""
        self._s.sync_state = state
        self._s.writes += 1

    async def listed_pages(self) -> Sequence[ListedPage]:
        """Return the runner listing's pages as the last cycle kept them, in listing order."""
        return list(self._s.listed_pages.values())

    async def save_listed_pages(self, pages: Sequence[ListedPage]) -> int:
        """Keep exactly ``pages``; return how many were written (new, changed) or dropped."""
        before = {
            url: (position, page.etag)
            for position, (url, page) in enumerate(self._s.listed_pages.items())
        }
        after = {page.url: (position, page.etag) for position, page in enumerate(pages)}
        written = sum(1 for url, kept in after.items() if before.get(url) != kept)
        written += len(before.keys() - after.keys())
        self._s.listed_pages = {page.url: page for page in pages}
        self._s.writes += written
        return written


class FakeWebhookDeliveryRepository(FakeRepository):
    """Seen ``X-GitHub-Delivery`` ids."""

    async def seen(self, delivery_id: str) -> bool:
        """Return whether the delivery has been recorded."""
        return delivery_id in self._s.deliveries

    async def record(self, delivery_id: str, received_at: datetime) -> bool:
        """Remember a delivery; return ``False`` when it had been seen before."""
        if delivery_id in self._s.deliveries:
            return False
        self._s.deliveries[delivery_id] = received_at
        self._s.writes += 1
        return True

    async def purge_before(self, cutoff: datetime) -> int:
        """Forget deliveries older than ``cutoff``; return how many."""
        old = [d for d, at in self._s.deliveries.items() if at < cutoff]
        for delivery_id in old:
            del self._s.deliveries[delivery_id]
        self._s.writes += 1 if old else 0
        return len(old)
