"""Verified tokens remembered until they expire, so a reused token costs one signature check."""

from __future__ import annotations

from collections import OrderedDict

import attrs

from gharts_core.ports.identity import VerifiedToken

DEFAULT_MAX_ENTRIES = 10_000


@attrs.frozen
class CachedToken:
    """A verified token, when it stops being valid, and the key that vouched for it."""

    verified: VerifiedToken
    expires: float
    kid: str


class VerifiedTokenCache:
    """A bounded LRU map from a token's SHA-256 digest to its verification result.

    Only digests are kept, never the tokens themselves.
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 0:
            raise ValueError("max_entries must be zero (no cache) or more")
        self._max = max_entries
        self._entries: OrderedDict[bytes, CachedToken] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: bytes, now: float) -> CachedToken | None:
        """Return the entry for ``digest`` unless it is missing or expired at ``now``."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if now >= entry.expires:
            del self._entries[digest]
            return None
        self._entries.move_to_end(digest)
        return entry

    def put(self, digest: bytes, entry: CachedToken) -> None:
        """Remember ``entry``, evicting the least recently used one when full."""
        if self._max == 0:
            return
        self._entries[digest] = entry
        self._entries.move_to_end(digest)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def discard(self, digest: bytes) -> None:
        """Forget ``digest`` (its key is no longer published)."""
        self._entries.pop(digest, None)
