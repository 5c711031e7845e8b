"""The per-principal rate limit of the provisioning endpoints (``RATE_LIMITED``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gharts_core.testing import FakeClock
from tests.integration.api_support import Api, running_api

BOB = "bob@example.com"
CAROL = "carol@example.com"


@pytest.fixture
def clock() -> FakeClock:
    """The app's clock, moved by the tests instead of sleeping."""
    return FakeClock()


@pytest.fixture
async def limited(sqlite_url: str, clock: FakeClock) -> AsyncIterator[Api]:
    """The app allowing two provisioning requests per minute per principal."""
    server = {"provision_rate_per_minute": 2}
    async with running_api(sqlite_url, clock=clock, server=server) as api:
        await api.seed_team("alpha")
        await api.seed_user(BOB, "alpha", can_use_registration_token=True)
        await api.seed_user(CAROL, "alpha")
        yield api


async def test_the_third_request_in_a_minute_is_refused_with_retry_after(limited: Api) -> None:
    """Two requests pass; the third gets 429 ``RATE_LIMITED`` and the wait in seconds."""
    for _ in range(2):
        assert 201 == (await limited.provision(limited.as_user(BOB))).status_code
    refused = await limited.provision(limited.as_user(BOB))
    expected = (429, "RATE_LIMITED", 30, "30")
    assert expected == (
        refused.status_code,
        refused.json()["error_code"],
        refused.json()["retry_after"],
        refused.headers["Retry-After"],
    )


async def test_the_limit_lifts_as_time_passes(limited: Api, clock: FakeClock) -> None:
    """After ``Retry-After`` seconds the caller may provision again."""
    for _ in range(2):
        await limited.provision(limited.as_user(BOB))
    clock.advance(30)
    assert 201 == (await limited.provision(limited.as_user(BOB))).status_code


async def test_each_principal_has_its_own_budget(limited: Api) -> None:
    """Bob's burst does not limit Carol."""
    for _ in range(2):
        await limited.provision(limited.as_user(BOB))
    assert 201 == (await limited.provision(limited.as_user(CAROL))).status_code


async def test_both_provisioning_endpoints_share_the_budget(limited: Api) -> None:
    """The registration-token flow draws from the same bucket as the JIT flow."""
    headers = limited.as_user(BOB)
    body = {"labels": ["gpu-a100"], "runner_name_prefix": "legacy"}
    await limited.call("POST", "/api/v1/runners/provision", headers, json=body, expect=201)
    await limited.provision(headers)
    refused = await limited.call("POST", "/api/v1/runners/provision", headers, json=body)
    assert (429, "RATE_LIMITED") == (refused.status_code, refused.json()["error_code"])


async def test_the_limit_applies_after_authentication(limited: Api) -> None:
    """Requests with a bad token stay 401s however many there are."""
    bad = {"Authorization": "Bearer nope"}
    for _ in range(3):
        response = await limited.provision(bad)
        assert (401, "INVALID_TOKEN") == (response.status_code, response.json()["error_code"])


async def test_other_endpoints_are_not_limited(limited: Api) -> None:
    """Listing runners does not spend the provisioning budget."""
    headers = limited.as_user(BOB)
    for _ in range(5):
        await limited.call("GET", "/api/v1/runners", headers, expect=200)
    for _ in range(2):
        assert 201 == (await limited.provision(headers)).status_code
