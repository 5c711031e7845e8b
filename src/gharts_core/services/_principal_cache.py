"""A small, bounded, time-limited memory of the principals recently resolved from tokens.

Resolving a principal reads the users or clients table on every request. The cache keeps a
resolved principal for ``ttl`` after it was read, so a change to the row (deactivation,
capabilities, memberships) reaches a process within ``ttl``; at most ``max_entries`` principals are
kept, the least recently used one leaving first. Refusals are never cached.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

from gharts_core.model import Principal
from gharts_core.ports.identity import TokenKind

CacheKey = tuple[TokenKind, str, str]


class PrincipalCache:
    """Principals by (token kind, issuer, subject), each for ``ttl`` after it was looked up."""

    def __init__(self, ttl: timedelta, max_entries: int) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._entries: OrderedDict[CacheKey, tuple[Principal, datetime]] = OrderedDict()

    def __len__(self) -> int:
        """Return how many principals are kept now."""
        return len(self._entries)

    def get(self, key: CacheKey, now: datetime) -> Principal | None:
        """Return the principal kept for ``key``, or ``None`` when there is none still fresh."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        principal, expires_at = entry
        if now >= expires_at:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return principal

    def put(self, key: CacheKey, principal: Principal, now: datetime) -> None:
        """Keep ``principal`` for ``key`` until ``now + ttl`` (nothing when ``ttl`` is zero)."""
        if self._ttl <= timedelta(0) or self._max_entries <= 0:
            return
        self._entries[key] = (principal, now + self._ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every principal (after a change this process knows about)."""
        self._entries.clear()
