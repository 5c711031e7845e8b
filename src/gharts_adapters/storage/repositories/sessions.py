"""Dashboard sessions: one row per login, keyed by the digest of the cookie's value."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select

from gharts_adapters.storage.errors import translating
from gharts_adapters.storage.repositories.base import SqlRepository
from gharts_adapters.storage.tables import dashboard_sessions
from gharts_core.errors import Conflict
from gharts_core.ports.storage import DashboardSession


class SqlDashboardSessionRepository(SqlRepository):
    """Dashboard logins: created at login, ended by logout or expiry."""

    @translating
    async def add(self, session: DashboardSession) -> None:
        """Insert a session; raise ``Conflict`` when the key is taken."""
        row = {
            "key": session.key,
            "user_id": session.user_id,
            "issuer": session.issuer,
            "subject": session.subject,
            "created_at": session.created_at,
            "expires_at": session.expires_at,
        }
        statement = self._insert(dashboard_sessions).values(row)
        result = await self._execute(
            statement.on_conflict_do_nothing(index_elements=[dashboard_sessions.c.key])
        )
        if result.rowcount != 1:
            raise Conflict("A dashboard session with this key already exists.")

    @translating
    async def get(self, key: str) -> DashboardSession | None:
        """Return the session with this key, or ``None`` (expired ones too)."""
        row = await self._first(select(dashboard_sessions).where(dashboard_sessions.c.key == key))
        if row is None:
            return None
        return DashboardSession(
            key=row["key"],
            user_id=row["user_id"],
            issuer=row["issuer"],
            subject=row["subject"],
            created_at=row["created_at"],
            expires_at=row["expires_at"],
        )

    @translating
    async def delete(self, key: str) -> bool:
        """End one session; return ``False`` when there was none."""
        result = await self._execute(
            delete(dashboard_sessions).where(dashboard_sessions.c.key == key)
        )
        return result.rowcount > 0

    @translating
    async def delete_for_user(self, user_id: uuid.UUID) -> int:
        """End every session of a user; return how many."""
        result = await self._execute(
            delete(dashboard_sessions).where(dashboard_sessions.c.user_id == user_id)
        )
        return result.rowcount

    @translating
    async def purge_expired(self, now: datetime) -> int:
        """Forget sessions whose ``expires_at`` is at or before ``now``; return how many."""
        result = await self._execute(
            delete(dashboard_sessions).where(dashboard_sessions.c.expires_at <= now)
        )
        return result.rowcount
