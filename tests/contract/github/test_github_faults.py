"""How the adapter behaves when GitHub fails, limits, times out or asks for re-authentication."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from gharts_adapters.github import RetryPolicy, Timeouts
from gharts_adapters.github.simulator import Faults
from gharts_adapters.github.simulator.wiring import SimulatedGitHub, simulated_github
from gharts_core.errors import GitHubRateLimited, GitHubUnavailable
from gharts_core.ports.github import JitRequest
from gharts_core.testing.clock import FakeClock
from tests.contract.github.github_support import SimulatedFactory

JIT = JitRequest(name="r", runner_group_id=1, labels=("gpu",))


async def test_installation_token_request_is_retried_after_server_errors(
    github: SimulatedGitHub,
) -> None:
    github.simulator.set_faults(Faults(status=503, times=2))

    await github.platform.list_runners()

    expected = {503: 2, 201: 1}
    assert expected == _statuses(github, "create_installation_token")


async def test_server_errors_then_success_are_retried(github: SimulatedGitHub) -> None:
    await _authenticate(github)
    github.simulator.set_faults(Faults(status=503, times=2))

    runners = await github.platform.list_runners()

    expected = ([], {503: 2, 200: 1})
    assert expected == (list(runners), _statuses(github, "list_runners"))


async def test_persistent_server_errors_end_in_github_unavailable(github: SimulatedGitHub) -> None:
    await _authenticate(github)
    github.simulator.set_faults(Faults(status=502))

    with pytest.raises(GitHubUnavailable) as raised:
        await github.platform.get_runner(1)

    expected = (502, 3)  # RetryPolicy.immediate(): 3 attempts
    assert expected == (raised.value.status, github.simulator.calls["get_runner"])


async def test_jit_config_is_not_retried_after_a_server_error(github: SimulatedGitHub) -> None:
    await _authenticate(github)
    github.simulator.set_faults(Faults(status=500, times=1))

    with pytest.raises(GitHubUnavailable) as raised:
        await github.platform.create_jit_config(JIT)

    expected = (500, 1)
    assert expected == (raised.value.status, github.simulator.calls["generate_jitconfig"])


async def test_exhausted_primary_limit_raises_rate_limited_with_the_reset_time_at_once(
    simulated: SimulatedFactory,
) -> None:
    clock = FakeClock(datetime(2026, 3, 1, 9, 30, 15, tzinfo=UTC))
    async with simulated(clock=clock) as github:
        await github.platform.list_runners()
        github.simulator.set_faults(Faults(rate_limit_remaining=0))

        with pytest.raises(GitHubRateLimited) as raised:
            await github.platform.list_runners()

    reset_at = datetime(2026, 3, 1, 10, 30, 15, tzinfo=UTC)
    assert (reset_at, 3600) == (raised.value.reset_at, raised.value.retry_after)
    expected = ({200: 1, 403: 1}, 0)
    assert expected == (_statuses(github, "list_runners"), github.platform.rate_limit().remaining)


async def test_secondary_limit_raises_rate_limited_with_retry_after_and_no_retry(
    github: SimulatedGitHub,
) -> None:
    await _authenticate(github)
    github.simulator.set_faults(Faults(secondary_limit=True, retry_after=42))

    with pytest.raises(GitHubRateLimited) as raised:
        await github.platform.get_runner(3)

    expected = (42, 1)
    assert expected == (raised.value.retry_after, github.simulator.calls["get_runner"])


async def test_one_installation_token_serves_a_hundred_concurrent_calls(
    github: SimulatedGitHub,
) -> None:
    results = await asyncio.gather(*(github.platform.get_runner(i) for i in range(100)))

    expected = ([None] * 100, 1)
    assert expected == (results, github.simulator.calls["create_installation_token"])


async def test_installation_token_is_renewed_five_minutes_before_expiry(
    simulated: SimulatedFactory,
) -> None:
    clock = FakeClock()
    async with simulated(clock=clock) as github:
        await github.platform.list_runners()
        clock.advance(timedelta(minutes=54, seconds=59))
        await github.platform.list_runners()
        tokens_before_renewal = github.simulator.calls["create_installation_token"]
        clock.advance(timedelta(seconds=1))
        await github.platform.list_runners()

    expected = (1, 2)
    assert expected == (tokens_before_renewal, github.simulator.calls["create_installation_token"])


async def test_a_revoked_installation_token_is_replaced_once(github: SimulatedGitHub) -> None:
    await github.platform.list_runners()
    github.simulator.revoke_tokens()

    await github.platform.list_runners()

    expected = (2, {200: 1, 401: 1, 304: 1})
    assert expected == (
        github.simulator.calls["create_installation_token"],
        _statuses(github, "list_runners"),
    )


async def test_unchanged_pages_come_back_as_304_on_the_second_pass(
    github: SimulatedGitHub,
) -> None:
    for i in range(250):
        github.simulator.register(f"r-{i:03}", ["x"])
    first = await github.platform.list_runners()

    second = await github.platform.list_runners()

    assert first == second
    expected = {200: 3, 304: 3}
    assert expected == _statuses(github, "list_runners")


async def test_a_changed_runner_refetches_only_its_page(github: SimulatedGitHub) -> None:
    ids = [int(github.simulator.register(f"r-{i:03}", ["x"])["id"]) for i in range(250)]
    await github.platform.list_runners()
    github.simulator.set_busy(ids[150])

    runners = await github.platform.list_runners()

    expected = ([150], {200: 4, 304: 2})
    assert expected == (
        [i for i, runner in enumerate(runners) if runner.busy],
        _statuses(github, "list_runners"),
    )


async def test_list_runners_asks_for_full_pages(github: SimulatedGitHub) -> None:
    for i in range(101):
        github.simulator.register(f"r-{i:03}", ["x"])

    await github.platform.list_runners()

    expected = {200: 2}
    assert expected == _statuses(github, "list_runners")


async def test_duplicate_name_is_resolved_by_one_lookup_by_name(github: SimulatedGitHub) -> None:
    github.simulator.register("taken", ["x"])

    with pytest.raises(Exception, match="already exists"):
        await github.platform.create_jit_config(JitRequest("taken", 1, ("gpu",)))

    expected = (1, 1)
    assert expected == (
        github.simulator.calls["generate_jitconfig"],
        _calls(github, "list_runners"),
    )


async def test_a_hanging_read_is_retried_after_the_timeout(simulated: SimulatedFactory) -> None:
    async with simulated(timeouts=Timeouts(connect=0.01, read=0.04)) as github:
        await _authenticate(github)
        github.simulator.set_faults(Faults(timeout=True, times=1))

        assert await github.platform.get_runner(5) is None

    expected = 2
    assert expected == github.simulator.calls["get_runner"]


async def test_a_hanging_jit_request_is_not_repeated(simulated: SimulatedFactory) -> None:
    async with simulated(timeouts=Timeouts(connect=0.01, read=0.04)) as github:
        await _authenticate(github)
        github.simulator.set_faults(Faults(timeout=True))

        with pytest.raises(GitHubUnavailable, match="in time"):
            await github.platform.create_jit_config(JIT)

    expected = 1
    assert expected == github.simulator.calls["generate_jitconfig"]


async def test_a_jit_call_slower_than_its_deadline_fails_with_an_unknown_outcome(
    simulated: SimulatedFactory,
) -> None:
    """Each try may take 1 s, the whole call 0.2 s: a 0.5 s GitHub is cut at the call's deadline."""
    async with simulated(timeouts=Timeouts(connect=0.5, read=1.0, jit_call=0.2)) as github:
        await _authenticate(github)
        github.simulator.set_faults(Faults(latency_ms=500))

        with pytest.raises(GitHubUnavailable, match=r"within 0\.2 s") as raised:
            await github.platform.create_jit_config(JIT)

    assert raised.value.request_sent  # GitHub may yet create it: resolved by name later
    assert 1 == github.simulator.calls["generate_jitconfig"]


async def test_retries_stop_at_the_configured_number_of_attempts(
    simulated: SimulatedFactory,
) -> None:
    async with simulated(retry=RetryPolicy.immediate(attempts=5)) as github:
        await _authenticate(github)
        github.simulator.set_faults(Faults(status=503))

        with pytest.raises(GitHubUnavailable):
            await github.platform.delete_runner(1)

    expected = 5
    assert expected == github.simulator.calls["delete_runner"]


async def test_cancelling_a_completed_run_is_not_an_error(github: SimulatedGitHub) -> None:
    github.simulator.complete_run("acme/api", 7)

    await github.platform.cancel_workflow_run("acme/api", 7)

    expected = ([], 1)
    assert expected == (
        github.simulator.cancelled_runs,
        github.simulator.calls["cancel_workflow_run"],
    )


async def _authenticate(github: SimulatedGitHub) -> None:
    """Fetch the installation token (with a call no test counts) before faults start."""
    await github.platform.create_registration_token()


def _statuses(github: SimulatedGitHub, operation: str) -> dict[int, int]:
    return {
        status: count
        for (name, status), count in github.simulator.responses.items()
        if name == operation
    }


def _calls(github: SimulatedGitHub, operation: str) -> int:
    return github.simulator.calls[operation]


async def test_ten_thousand_runners_list_in_one_hundred_pages_then_304s() -> None:
    async with simulated_github(scope="org:big") as github:
        for i in range(10_000):
            github.simulator.register(f"runner-{i:05}", ["x"])

        first = await github.platform.list_runners()
        second = await github.platform.list_runners()

    assert (10_000, first) == (len(first), second)
    expected = {200: 100, 304: 100}
    assert expected == _statuses(github, "list_runners")
