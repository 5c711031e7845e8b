"""The provisioning rate limiter: one token bucket per principal, on an injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gharts_core.errors import RateLimited
from gharts_core.model import Principal
from gharts_core.testing import FakeClock
from gharts_http.api.rate_limit import (
    FORGED_WEBHOOK_EVENTS_PER_MINUTE_IN_ALL,
    RateLimits,
    TokenBucketLimiter,
    principal_key,
)
from gharts_http.settings import Settings
from tests.unit.builders import machine_principal, make_client, make_team, make_user, user_principal

ALICE = user_principal(make_user("alice@example.com"))


def drain(limiter: TokenBucketLimiter, principal: Principal, times: int) -> None:
    """Take ``times`` tokens, all of which must be granted."""
    for _ in range(times):
        limiter.acquire(principal)


def retry_after(limiter: TokenBucketLimiter, principal: Principal) -> int:
    """Return the ``retry_after`` of the refusal ``principal`` gets now."""
    with pytest.raises(RateLimited) as refused:
        limiter.acquire(principal)
    return refused.value.retry_after


def test_a_full_minute_of_requests_is_granted_at_once() -> None:
    """The bucket starts full: ``rate_per_minute`` requests pass back to back."""
    limiter = TokenBucketLimiter(6, FakeClock())
    drain(limiter, ALICE, 6)
    assert 10 == retry_after(limiter, ALICE)


def test_the_wait_is_the_time_until_the_next_token() -> None:
    """At 6 per minute a token comes every 10 s; after 4 s the caller waits 6 s more."""
    clock = FakeClock()
    limiter = TokenBucketLimiter(6, clock)
    drain(limiter, ALICE, 6)
    clock.advance(4)
    assert 6 == retry_after(limiter, ALICE)


def test_tokens_refill_with_time() -> None:
    """Ten seconds later one request passes again, and only one."""
    clock = FakeClock()
    limiter = TokenBucketLimiter(6, clock)
    drain(limiter, ALICE, 6)
    clock.advance(10)
    limiter.acquire(ALICE)
    assert 10 == retry_after(limiter, ALICE)


def test_refill_stops_at_capacity() -> None:
    """An hour of silence buys one minute's worth of requests, not sixty."""
    clock = FakeClock()
    limiter = TokenBucketLimiter(3, clock)
    limiter.acquire(ALICE)
    clock.advance(3600)
    drain(limiter, ALICE, 3)
    assert 20 == retry_after(limiter, ALICE)


def test_refusals_take_no_token() -> None:
    """Being refused does not push the next token further away."""
    clock = FakeClock()
    limiter = TokenBucketLimiter(6, clock)
    drain(limiter, ALICE, 6)
    for _ in range(5):
        retry_after(limiter, ALICE)
    clock.advance(10)
    limiter.acquire(ALICE)


def test_principals_have_separate_buckets() -> None:
    """One caller's burst does not limit another."""
    limiter = TokenBucketLimiter(1, FakeClock())
    team = make_team("backend")
    ci = machine_principal(make_client(team, subject="ci"))
    limiter.acquire(ALICE)
    limiter.acquire(ci)
    assert 60 == retry_after(limiter, ci)


def test_a_clock_stepping_back_refills_nothing() -> None:
    """Time going backwards never creates tokens."""
    clock = FakeClock()
    limiter = TokenBucketLimiter(6, clock)
    clock.advance(100)
    drain(limiter, ALICE, 6)
    clock.advance(-50)
    assert 10 == retry_after(limiter, ALICE)


def test_tracked_principals_are_bounded_least_recent_first() -> None:
    """Beyond ``max_principals`` the least recently seen principal is forgotten."""
    limiter = TokenBucketLimiter(1, FakeClock(), max_principals=2)
    first, second, third = (user_principal(make_user(f"u{n}@example.com")) for n in range(3))
    limiter.acquire(first)
    limiter.acquire(second)
    retry_after(limiter, first)  # first is now the most recently seen
    limiter.acquire(third)  # second is evicted
    assert 2 == len(limiter)
    retry_after(limiter, first)  # first was kept, still empty
    limiter.acquire(second)  # second starts again with a full bucket


def test_a_zero_rate_disables_the_limit() -> None:
    """``provision_rate_per_minute = 0`` means no limit."""
    limiter = TokenBucketLimiter(0, FakeClock())
    drain(limiter, ALICE, 1000)
    assert (False, 0) == (limiter.enabled, len(limiter))


def test_the_key_is_kind_and_id() -> None:
    """Two principals with the same name but different kinds never share a bucket."""
    assert ("user", str(ALICE.id)) == principal_key(ALICE)
    assert ("system", "system") == principal_key(Principal.system())


def test_forged_webhook_events_are_capped_in_all_whatever_the_claimed_source() -> None:
    """2,000 forgeries from 2,000 addresses record the global allowance, then one a refill later."""
    clock = FakeClock()
    limits = RateLimits.of(Settings(), clock)
    recorded = sum(
        limits.may_record_forged_webhook(f"10.0.{i // 250}.{i % 250}") for i in range(2000)
    )
    clock.advance(timedelta(minutes=1))
    later = limits.may_record_forged_webhook("10.9.9.9")
    assert (FORGED_WEBHOOK_EVENTS_PER_MINUTE_IN_ALL, True) == (recorded, later)
