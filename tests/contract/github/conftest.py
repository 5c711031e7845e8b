"""Fixtures of the GitHub contract suite: the fake, and the adapter over the simulator.

Every exchange between the adapter and the simulator is checked against GitHub's OpenAPI
description; a test fails at teardown if anything did not match.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from gharts_adapters.github.simulator.wiring import SimulatedGitHub, simulated_github
from gharts_core.testing.fake_github import FakeRunnerPlatform
from tests.contract.github.github_openapi import ExchangeRecorder, GitHubOpenAPI
from tests.contract.github.github_support import (
    Backend,
    FakeControl,
    SimulatedFactory,
    SimulatorControl,
)

SCOPE = "org:acme"


@pytest.fixture(scope="session")
def openapi() -> GitHubOpenAPI:
    """Return GitHub's description of the operations gharts uses."""
    return GitHubOpenAPI()


@pytest.fixture
def recorder(openapi: GitHubOpenAPI) -> ExchangeRecorder:
    """Return a validator that every simulated exchange of the test passes through."""
    return ExchangeRecorder(openapi)


@pytest.fixture
def simulated(recorder: ExchangeRecorder) -> SimulatedFactory:
    """Return ``simulated_github`` with OpenAPI validation of every exchange."""

    def factory(**options: Any) -> AbstractAsyncContextManager[SimulatedGitHub]:
        hooks = dict(options.pop("event_hooks", {}))
        hooks["response"] = [*hooks.get("response", []), recorder]
        return simulated_github(event_hooks=hooks, **options)

    return factory


@pytest.fixture(autouse=True)
def _exchanges_match_openapi(recorder: ExchangeRecorder) -> Any:
    yield
    expected = []
    assert expected == recorder.problems


@pytest.fixture
async def github(simulated: SimulatedFactory) -> AsyncIterator[SimulatedGitHub]:
    """Yield the adapter wired to a fresh simulator for the ``org:acme`` scope."""
    async with simulated(scope=SCOPE) as github:
        yield github


@pytest.fixture(params=["fake", "simulator"])
async def backend(
    request: pytest.FixtureRequest, simulated: SimulatedFactory
) -> AsyncIterator[Backend]:
    """Yield each implementation of the port with its control handle."""
    if request.param == "fake":
        fake = FakeRunnerPlatform(registration_url="https://github.com/acme")
        yield Backend("fake", fake, FakeControl(fake))
        return
    async with simulated(scope=SCOPE) as github:
        yield Backend("simulator", github.platform, SimulatorControl(github.simulator))
