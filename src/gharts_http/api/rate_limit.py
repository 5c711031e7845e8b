"""gharts' own request rate limit on provisioning: one token bucket per principal.

A bucket holds up to ``rate_per_minute`` tokens (a minute's worth of burst) and refills at
``rate_per_minute / 60`` tokens per second. Each provisioning request takes one token; an empty
bucket raises :class:`~gharts_core.errors.RateLimited` with the seconds until the next token.
Time comes from the injected clock, so tests move it instead of sleeping. The number of buckets
is bounded: the least recently seen principal is forgotten first (its next request starts with a
full bucket, which is the most a forgotten principal could have anyway after a quiet while).
"""

from __future__ import annotations

import math
from collections import OrderedDict

import attrs

from gharts_core.errors import RateLimited
from gharts_core.model import Principal
from gharts_core.ports.clock import Clock
from gharts_http.settings import Settings

DEFAULT_MAX_PRINCIPALS = 10_000
#: Security events recorded per source address for forged webhook deliveries; beyond it the
#: deliveries are still refused, but a flood cannot fill the security log.
FORGED_WEBHOOK_EVENTS_PER_MINUTE = 30
#: The same, whatever the source: claimed addresses are cheap to vary, the log is not.
FORGED_WEBHOOK_EVENTS_PER_MINUTE_IN_ALL = 120
_ALL_SOURCES: BucketKey = ("webhook-sources", "all")

BucketKey = tuple[str, str]


@attrs.define
class _Bucket:
    tokens: float
    updated: float  # POSIX seconds of the last refill


def principal_key(principal: Principal) -> BucketKey:
    """Return the bucket key of ``principal``: its kind and its id (its name when it has none)."""
    return (principal.kind.value, str(principal.id) if principal.id is not None else principal.name)


class TokenBucketLimiter:
    """Token buckets keyed by principal, at most ``max_principals`` of them (LRU).

    ``rate_per_minute`` of zero or less disables the limit.
    """

    def __init__(
        self,
        rate_per_minute: int,
        clock: Clock,
        *,
        max_principals: int = DEFAULT_MAX_PRINCIPALS,
    ) -> None:
        if max_principals < 1:
            raise ValueError("max_principals must be at least 1")
        self._capacity = float(max(rate_per_minute, 0))
        self._per_second = self._capacity / 60.0
        self._clock = clock
        self._max = max_principals
        self._buckets: OrderedDict[BucketKey, _Bucket] = OrderedDict()

    @property
    def enabled(self) -> bool:
        """Whether requests are limited at all."""
        return self._capacity > 0

    def __len__(self) -> int:
        """Return how many principals are tracked."""
        return len(self._buckets)

    def acquire(self, principal: Principal) -> None:
        """Take one token for ``principal``, or raise :class:`RateLimited` with the wait."""
        self.acquire_key(principal_key(principal))

    def try_acquire_key(self, key: BucketKey) -> bool:
        """Take one token for ``key``; return whether there was one."""
        try:
            self.acquire_key(key)
        except RateLimited:
            return False
        return True

    def acquire_key(self, key: BucketKey) -> None:
        """Take one token for ``key``, or raise :class:`RateLimited` with the wait."""
        if not self.enabled:
            return
        now = self._clock.now().timestamp()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(tokens=self._capacity, updated=now)
            self._buckets[key] = bucket
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            elapsed = max(now - bucket.updated, 0.0)  # a clock stepping back refills nothing
            bucket.tokens = min(self._capacity, bucket.tokens + elapsed * self._per_second)
            bucket.updated = max(now, bucket.updated)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return
        wait = (1.0 - bucket.tokens) / self._per_second
        raise RateLimited(retry_after=max(1, math.ceil(wait)))


@attrs.frozen(kw_only=True)
class RateLimits:
    """The app's limiters: provisioning per principal, forged-webhook events per source."""

    provisioning: TokenBucketLimiter
    forged_webhook_events: TokenBucketLimiter
    forged_webhook_events_in_all: TokenBucketLimiter

    @classmethod
    def of(cls, settings: Settings, clock: Clock) -> RateLimits:
        """Build the limiters ``settings`` ask for, on ``clock``."""
        return cls(
            provisioning=TokenBucketLimiter(settings.server.provision_rate_per_minute, clock),
            forged_webhook_events=TokenBucketLimiter(FORGED_WEBHOOK_EVENTS_PER_MINUTE, clock),
            forged_webhook_events_in_all=TokenBucketLimiter(
                FORGED_WEBHOOK_EVENTS_PER_MINUTE_IN_ALL, clock
            ),
        )

    def may_record_forged_webhook(self, source: str) -> bool:
        """Take a token for one forged delivery's security event: from its source and the total."""
        return self.forged_webhook_events.try_acquire_key(
            ("webhook-source", source)
        ) and self.forged_webhook_events_in_all.try_acquire_key(_ALL_SOURCES)
