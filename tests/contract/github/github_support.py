"""One driving interface over the fake and the simulator, so test bodies never branch."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import attrs

from gharts_adapters.github.simulator import GitHubSimulator
from gharts_adapters.github.simulator.wiring import SimulatedGitHub
from gharts_core.ports.github import RunnerPlatform
from gharts_core.testing.fake_github import FakeRunnerPlatform

SimulatedFactory = Callable[..., AbstractAsyncContextManager[SimulatedGitHub]]
"""The ``simulated`` fixture: ``simulated_github`` with every exchange checked against OpenAPI."""


class Control(Protocol):
    """What a test does to GitHub behind the platform's back."""

    def register(self, name: str, labels: Iterable[str], *, ephemeral: bool = False) -> int:
        """Add a runner gharts never created; return its id."""
        ...

    def set_online(self, runner_id: int) -> None:
        """Runner connects."""
        ...

    def set_busy(self, runner_id: int) -> None:
        """Runner takes a job."""
        ...

    def set_offline(self, runner_id: int) -> None:
        """Runner disconnects."""
        ...

    def finish_job(self, runner_id: int) -> None:
        """Runner's job ends."""
        ...

    def relabel(self, runner_id: int, labels: Iterable[str]) -> None:
        """Runner's custom labels are replaced."""
        ...

    def vanish(self, runner_id: int) -> None:
        """GitHub forgets the runner."""
        ...

    def cancelled_runs(self) -> list[tuple[str, int]]:
        """Return the workflow runs cancelled so far."""
        ...


@attrs.frozen
class FakeControl:
    """Drives a :class:`FakeRunnerPlatform`."""

    fake: FakeRunnerPlatform

    def register(self, name: str, labels: Iterable[str], *, ephemeral: bool = False) -> int:
        """Add a foreign runner."""
        return self.fake.register(name, labels, ephemeral=ephemeral).id

    def set_online(self, runner_id: int) -> None:
        """Runner connects."""
        self.fake.set_online(runner_id)

    def set_busy(self, runner_id: int) -> None:
        """Runner takes a job."""
        self.fake.set_busy(runner_id)

    def set_offline(self, runner_id: int) -> None:
        """Runner disconnects."""
        self.fake.set_offline(runner_id)

    def finish_job(self, runner_id: int) -> None:
        """Runner's job ends."""
        self.fake.finish_job(runner_id)

    def relabel(self, runner_id: int, labels: Iterable[str]) -> None:
        """Replace custom labels."""
        self.fake.relabel(runner_id, labels)

    def vanish(self, runner_id: int) -> None:
        """Forget the runner."""
        self.fake.vanish(runner_id)

    def cancelled_runs(self) -> list[tuple[str, int]]:
        """Return cancelled runs."""
        return list(self.fake.cancelled_runs)


@attrs.frozen
class SimulatorControl:
    """Drives a :class:`GitHubSimulator`."""

    sim: GitHubSimulator

    def register(self, name: str, labels: Iterable[str], *, ephemeral: bool = False) -> int:
        """Add a foreign runner."""
        return int(self.sim.register(name, labels, ephemeral=ephemeral)["id"])

    def set_online(self, runner_id: int) -> None:
        """Runner connects."""
        self.sim.set_online(runner_id)

    def set_busy(self, runner_id: int) -> None:
        """Runner takes a job."""
        self.sim.set_busy(runner_id)

    def set_offline(self, runner_id: int) -> None:
        """Runner disconnects."""
        self.sim.set_offline(runner_id)

    def finish_job(self, runner_id: int) -> None:
        """Runner's job ends."""
        self.sim.finish_job(runner_id)

    def relabel(self, runner_id: int, labels: Iterable[str]) -> None:
        """Replace custom labels."""
        self.sim.relabel(runner_id, labels)

    def vanish(self, runner_id: int) -> None:
        """Forget the runner."""
        self.sim.vanish(runner_id)

    def cancelled_runs(self) -> list[tuple[str, int]]:
        """Return cancelled runs."""
        return list(self.sim.cancelled_runs)


@attrs.frozen
class Backend:
    """A platform under test and the means to move GitHub behind it."""

    name: str
    platform: RunnerPlatform
    control: Control
