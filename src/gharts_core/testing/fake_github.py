"""An in-memory :class:`gharts_core.ports.RunnerPlatform` that behaves like GitHub.

Runners created through :meth:`FakeRunnerPlatform.create_jit_config` are ephemeral, start
``offline`` and idle, and carry GitHub's read-only labels (``self-hosted``, the OS, the
architecture) beside the custom ones. Tests drive their lifecycle with the control methods
(:meth:`~FakeRunnerPlatform.set_online`, :meth:`~FakeRunnerPlatform.finish_job`, ...) and make
calls fail with :meth:`~FakeRunnerPlatform.fail_next` or :meth:`~FakeRunnerPlatform.fail_always`.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import timedelta

import attrs

from gharts_core.errors import Conflict, GhartsError
from gharts_core.model import LabelType, ObservedLabel, ObservedRunner
from gharts_core.ports.clock import Clock, SystemClock
from gharts_core.ports.github import (
    JitConfig,
    JitRequest,
    ListedPage,
    RateLimitStatus,
    RegistrationToken,
)

RATE_LIMIT = 5000


@attrs.define
class _Runner:
    id: int
    name: str
    os: str
    arch: str
    status: str
    busy: bool
    ephemeral: bool
    runner_group_id: int
    custom_labels: tuple[str, ...]

    def observed(self) -> ObservedRunner:
        read_only = [
            ObservedLabel(n, LabelType.READ_ONLY) for n in ("self-hosted", self.os, self.arch)
        ]
        custom = [ObservedLabel(n, LabelType.CUSTOM) for n in self.custom_labels]
        return ObservedRunner(
            id=self.id,
            name=self.name,
            os=self.os,
            status=self.status,
            busy=self.busy,
            labels=(*read_only, *custom),
            runner_group_id=self.runner_group_id,
            ephemeral=self.ephemeral,
        )


@attrs.define
class _Fault:
    error: GhartsError
    method: str | None
    times: int | None  # None: until cleared


def _unique(labels: Iterable[str], *, os: str, arch: str) -> tuple[str, ...]:
    # As on GitHub: case-insensitive duplicates and read-only names collapse; first spelling wins.
    seen: dict[str, str] = {}
    for label in labels:
        if label.lower() not in {"self-hosted", os.lower(), arch.lower()}:
            seen.setdefault(label.lower(), label)
    return tuple(seen.values())


class FakeRunnerPlatform:
    """A GitHub scope held in memory: runners, registration tokens, cancelled runs, faults.

    ``calls`` counts every port call by method name (failed calls included);
    ``cancelled_runs`` records ``(repository, run_id)`` pairs in call order.
    """

    def __init__(
        self,
        *,
        registration_url: str = "https://github.com/gharts-test",
        clock: Clock | None = None,
        os: str = "Linux",
        arch: str = "X64",
        first_runner_id: int = 1,
    ) -> None:
        self._registration_url = registration_url
        self._clock = clock or SystemClock()
        self.remembered_pages: tuple[ListedPage, ...] = ()
        self._os = os
        self._arch = arch
        self._next_id = first_runner_id
        self._runners: dict[int, _Runner] = {}
        self._faults: list[_Fault] = []
        self._remaining: int | None = None
        self.calls: Counter[str] = Counter()
        self.cancelled_runs: list[tuple[str, int]] = []
        self.registration_tokens: list[RegistrationToken] = []

    # ---------------------------------------------------------------- the port

    @property
    def registration_url(self) -> str:
        """The URL a runner passes to ``config.sh --url`` for this scope."""
        return self._registration_url

    async def create_jit_config(self, request: JitRequest) -> JitConfig:
        """Register an ephemeral runner and return a one-time configuration blob."""
        self._enter("create_jit_config")
        existing = self._by_name(request.name)
        if existing is not None:
            raise Conflict(
                f"A runner named '{request.name}' already exists (GitHub runner id {existing.id})."
            )
        runner = self._add(
            request.name,
            request.labels,
            os=self._os,
            arch=self._arch,
            status="offline",
            busy=False,
            ephemeral=True,
            runner_group_id=request.runner_group_id,
        )
        config = secrets.token_urlsafe(48)
        return JitConfig(runner=runner.observed(), encoded_jit_config=config)

    async def create_registration_token(self) -> RegistrationToken:
        """Return a fresh registration token valid for one hour."""
        self._enter("create_registration_token")
        token = RegistrationToken(
            token=secrets.token_urlsafe(24).upper(),
            expires_at=self._clock.now() + timedelta(hours=1),
        )
        self.registration_tokens.append(token)
        return token

    async def list_runners(self) -> Sequence[ObservedRunner]:
        """Return every runner at the scope, in id order."""
        self._enter("list_runners")
        return [runner.observed() for runner in self._runners.values()]

    def listed_pages(self) -> Sequence[ListedPage]:
        """Return the pages handed to :meth:`remember_pages` (the fake lists without pages)."""
        return self.remembered_pages

    def remember_pages(self, pages: Sequence[ListedPage]) -> None:
        """Keep ``pages`` (in :attr:`remembered_pages`); the fake's listing needs no ETags."""
        self.remembered_pages = tuple(pages)

    async def get_runner(self, github_runner_id: int) -> ObservedRunner | None:
        """Return one runner, or ``None`` when it does not exist."""
        self._enter("get_runner")
        runner = self._runners.get(github_runner_id)
        return runner.observed() if runner else None

    async def delete_runner(self, github_runner_id: int) -> bool:
        """Remove a runner; return ``False`` when it was already gone."""
        self._enter("delete_runner")
        return self._runners.pop(github_runner_id, None) is not None

    async def cancel_workflow_run(self, repository: str, run_id: int) -> None:
        """Record the cancellation of a workflow run."""
        self._enter("cancel_workflow_run")
        self.cancelled_runs.append((repository, run_id))

    def rate_limit(self) -> RateLimitStatus:
        """Return the budget: unknown before the first call, then one unit less per call."""
        if self._remaining is None:
            return RateLimitStatus(limit=None, remaining=None, reset_at=None)
        reset_at = self._clock.now().replace(microsecond=0) + timedelta(hours=1)
        return RateLimitStatus(limit=RATE_LIMIT, remaining=self._remaining, reset_at=reset_at)

    # ---------------------------------------------------------------- control

    @property
    def runners(self) -> tuple[ObservedRunner, ...]:
        """Every runner as GitHub would report it, without counting a call."""
        return tuple(runner.observed() for runner in self._runners.values())

    def register(
        self,
        name: str,
        labels: Iterable[str],
        *,
        os: str | None = None,
        arch: str | None = None,
        status: str = "online",
        busy: bool = False,
        ephemeral: bool = False,
        runner_group_id: int = 1,
    ) -> ObservedRunner:
        """Add a runner gharts never created (configured by hand with ``config.sh``)."""
        if self._by_name(name) is not None:
            raise ValueError(f"a runner named {name!r} already exists")
        return self._add(
            name,
            labels,
            os=os or self._os,
            arch=arch or self._arch,
            status=status,
            busy=busy,
            ephemeral=ephemeral,
            runner_group_id=runner_group_id,
        ).observed()

    def set_online(self, github_runner_id: int) -> None:
        """Make the runner connect: online and idle."""
        runner = self._runner(github_runner_id)
        runner.status, runner.busy = "online", False

    def set_busy(self, github_runner_id: int, busy: bool = True) -> None:
        """Make the runner pick up a job (or go idle again with ``busy=False``)."""
        runner = self._runner(github_runner_id)
        runner.status, runner.busy = "online", busy

    def set_offline(self, github_runner_id: int) -> None:
        """Make the runner disconnect."""
        runner = self._runner(github_runner_id)
        runner.status, runner.busy = "offline", False

    def finish_job(self, github_runner_id: int) -> None:
        """End the runner's job: an ephemeral runner disappears, another one goes idle."""
        runner = self._runner(github_runner_id)
        if runner.ephemeral:
            del self._runners[github_runner_id]
        else:
            runner.busy = False

    def relabel(self, github_runner_id: int, custom_labels: Iterable[str]) -> None:
        """Replace the runner's custom labels (what a hand-edited runner looks like)."""
        runner = self._runner(github_runner_id)
        runner.custom_labels = _unique(custom_labels, os=runner.os, arch=runner.arch)

    def vanish(self, github_runner_id: int) -> None:
        """Make GitHub forget the runner without gharts asking."""
        del self._runners[self._runner(github_runner_id).id]

    def fail_next(self, error: GhartsError, times: int = 1, *, method: str | None = None) -> None:
        """Raise ``error`` from the next ``times`` calls (of ``method`` only, when given)."""
        if times < 1:
            raise ValueError("times must be at least 1")
        self._faults.append(_Fault(error, method, times))

    def fail_always(self, error: GhartsError, *, method: str | None = None) -> None:
        """Raise ``error`` from every call (of ``method`` only, when given) until cleared."""
        self._faults.append(_Fault(error, method, None))

    def clear_faults(self) -> None:
        """Remove every injected failure."""
        self._faults.clear()

    # ---------------------------------------------------------------- internals

    def _enter(self, method: str) -> None:
        self.calls[method] += 1
        for fault in self._faults:
            if fault.method not in (None, method):
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
            raise fault.error.with_traceback(None)
        self._remaining = max((RATE_LIMIT if self._remaining is None else self._remaining) - 1, 0)

    def _runner(self, github_runner_id: int) -> _Runner:
        try:
            return self._runners[github_runner_id]
        except KeyError:
            raise KeyError(f"no runner with id {github_runner_id}") from None

    def _by_name(self, name: str) -> _Runner | None:
        # GitHub runner names are unique per scope, case-insensitively.
        folded = name.lower()
        return next((r for r in self._runners.values() if r.name.lower() == folded), None)

    def _add(
        self,
        name: str,
        labels: Iterable[str],
        *,
        os: str,
        arch: str,
        status: str,
        busy: bool,
        ephemeral: bool,
        runner_group_id: int,
    ) -> _Runner:
        runner = _Runner(
            id=self._next_id,
            name=name,
            os=os,
            arch=arch,
            status=status,
            busy=busy,
            ephemeral=ephemeral,
            runner_group_id=runner_group_id,
            custom_labels=_unique(labels, os=os, arch=arch),
        )
        self._next_id += 1
        self._runners[runner.id] = runner
        return runner
