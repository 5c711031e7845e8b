"""The fake's own controls: fault injection, call counters and misuse of the control methods."""

from __future__ import annotations

import pytest

from gharts_core.errors import GitHubRateLimited, GitHubUnavailable
from gharts_core.ports.github import JitRequest
from gharts_core.testing.fake_github import FakeRunnerPlatform


async def _outcomes(fake: FakeRunnerPlatform, calls: int) -> list[str]:
    outcomes = []
    for _ in range(calls):
        try:
            await fake.list_runners()
            outcomes.append("ok")
        except GitHubUnavailable as error:
            outcomes.append(f"unavailable {error.status}")
    return outcomes


async def test_fail_next_fails_exactly_that_many_calls() -> None:
    fake = FakeRunnerPlatform()
    fake.fail_next(GitHubUnavailable(status=503), times=2)

    outcomes = await _outcomes(fake, 3)

    expected = (["unavailable 503", "unavailable 503", "ok"], 3)
    assert expected == (outcomes, fake.calls["list_runners"])


async def test_fail_always_fails_until_cleared() -> None:
    fake = FakeRunnerPlatform()
    fake.fail_always(GitHubUnavailable(status=502))

    failing = await _outcomes(fake, 3)
    fake.clear_faults()
    healthy = await _outcomes(fake, 1)

    expected = (["unavailable 502"] * 3, ["ok"])
    assert expected == (failing, healthy)


async def test_a_fault_for_one_method_leaves_the_others_alone() -> None:
    fake = FakeRunnerPlatform()
    fake.fail_always(GitHubRateLimited(retry_after=30), method="create_jit_config")

    await fake.list_runners()
    with pytest.raises(GitHubRateLimited):
        await fake.create_jit_config(JitRequest("r", 1, ("gpu",)))

    expected = {"list_runners": 1, "create_jit_config": 1}
    assert expected == dict(fake.calls)


def test_fail_next_refuses_a_count_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        FakeRunnerPlatform().fail_next(GitHubUnavailable(), times=0)


def test_registering_a_taken_name_is_refused() -> None:
    fake = FakeRunnerPlatform()
    fake.register("r", ["x"])

    with pytest.raises(ValueError, match="already exists"):
        fake.register("R", ["x"])


def test_controls_on_an_unknown_runner_raise_key_error() -> None:
    with pytest.raises(KeyError, match="42"):
        FakeRunnerPlatform().set_online(42)
