"""The fake of the dashboard-session repository, over the store's state."""

from __future__ import annotations

import uuid
from datetime import datetime

from gharts_core.errors import Conflict
from gharts_core.ports.storage import DashboardSession
from gharts_core.testing._fake_state import FakeRepository


class FakeDashboardSessionRepository(FakeRepository):
    """Dashboard logins, keyed by the digest of their cookie."""

    async def add(self, session: DashboardSession) -> None:
        """Insert a session; raise ``Conflict`` when the key is taken."""
        if session.key in self._s.dashboard_sessions:
            raise Conflict("A dashboard session with this key already exists.")
        self._s.dashboard_sessions[session.key] = session
        self._s.writes += 1

    async def get(self, key: str) -> DashboardSession | None:
        """Return the session with this key, or ``None``."""
        return self._s.dashboard_sessions.get(key)

    async def delete(self, key: str) -> bool:
        """End one session; return ``False`` when there was none."""
        if self._s.dashboard_sessions.pop(key, None) is None:
            return False
        self._s.writes += 1
        return True

    async def delete_for_user(self, user_id: uuid.UUID) -> int:
        """End every session of a user; return how many."""
        sessions = self._s.dashboard_sessions.items()
        return self._drop([key for key, session in sessions if session.user_id == user_id])

    async def purge_expired(self, now: datetime) -> int:
        """Forget sessions whose ``expires_at`` is at or before ``now``; return how many."""
        sessions = self._s.dashboard_sessions.items()
        return self._drop([key for key, session in sessions if session.expires_at <= now])

    def _drop(self, keys: list[str]) -> int:
        for key in keys:
            del self._s.dashboard_sessions[key]
        self._s.writes += 1 if keys else 0
        return len(keys)
