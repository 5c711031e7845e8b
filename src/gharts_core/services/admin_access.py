"""The admin check on its own, for edges that must refuse non-admins before reading a request.

Every admin use case checks its caller itself; an HTTP edge that wants the refusal before it
parses a body (so that a non-admin learns nothing about the body's schema) asks here first.
The refusal is recorded as a security event, as the use cases record theirs.
"""

from __future__ import annotations

from gharts_core.model import Principal
from gharts_core.ports.clock import Clock
from gharts_core.ports.storage import Store
from gharts_core.services._lookups import require_admin

__all__ = ["AdminAccess"]


class AdminAccess:
    """Refuse non-admins, recording each refusal."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def require(self, principal: Principal, operation: str) -> None:
        """Raise ``AdminRequired`` unless ``principal`` is an admin; ``operation`` names the try."""
        await require_admin(self._store, self._clock, principal, operation)
