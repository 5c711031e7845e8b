"""The GitHub port: the runner operations gharts needs, in domain types only.

Implementations raise :class:`gharts_core.errors.GitHubRateLimited` when GitHub's budget is spent
and :class:`gharts_core.errors.GitHubUnavailable` for errors and timeouts after their retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import attrs

from gharts_core.model import ObservedRunner


@attrs.frozen
class JitRequest:
    """What GitHub needs to create a just-in-time runner configuration."""

    name: str
    runner_group_id: int
    labels: tuple[str, ...]  # custom labels only, lower case
    work_folder: str = "_work"


@attrs.frozen
class JitConfig:
    """GitHub's answer: the runner it registered and the one-time configuration blob."""

    runner: ObservedRunner
    encoded_jit_config: str = attrs.field(repr=False)


@attrs.frozen
class RegistrationToken:
    """A registration token for the legacy ``config.sh`` flow."""

    token: str = attrs.field(repr=False)
    expires_at: datetime


@attrs.frozen
class RateLimitStatus:
    """GitHub's most recently reported REST budget."""

    limit: int | None
    remaining: int | None
    reset_at: datetime | None


@attrs.frozen
class ListedPage:
    """One page of the runner listing as last read: where, its ETag, its runners, the next page.

    The sync worker keeps these with its state, so that a restarted worker (or ``gharts sync
    --once``) can ask GitHub ``If-None-Match`` and be answered ``304`` for what did not change.
    """

    url: str
    etag: str
    runners: tuple[ObservedRunner, ...]
    next_url: str | None = None


class RunnerPlatform(Protocol):
    """Self-hosted runners at one GitHub scope (an organisation, a repository or an enterprise)."""

    @property
    def registration_url(self) -> str:
        """The URL a runner passes to ``config.sh --url`` for this scope."""
        ...

    async def create_jit_config(self, request: JitRequest) -> JitConfig:
        """Register a runner and return its JIT configuration.

        When GitHub says the name is taken by a runner this platform can see, the existing runner
        is looked up and :class:`gharts_core.errors.Conflict` is raised.
        """
        ...

    async def create_registration_token(self) -> RegistrationToken:
        """Return a fresh registration token for the scope."""
        ...

    async def list_runners(self) -> Sequence[ObservedRunner]:
        """Return every self-hosted runner at the scope, reading all pages."""
        ...

    def listed_pages(self) -> Sequence[ListedPage]:
        """Return the pages of the last complete listing that carried an ETag, in order."""
        ...

    def remember_pages(self, pages: Sequence[ListedPage]) -> None:
        """Seed the listing's cache with pages read before (by another process).

        The next :meth:`list_runners` sends their ETags, so unchanged pages cost a ``304``.
        """
        ...

    async def get_runner(self, github_runner_id: int) -> ObservedRunner | None:
        """Return one runner, or ``None`` when GitHub no longer has it."""
        ...

    async def delete_runner(self, github_runner_id: int) -> bool:
        """Remove a runner; return ``False`` when GitHub had already forgotten it."""
        ...

    async def cancel_workflow_run(self, repository: str, run_id: int) -> None:
        """Cancel a workflow run in ``owner/name`` (used when a job runs on a drifted runner)."""
        ...

    def rate_limit(self) -> RateLimitStatus:
        """Return the most recent rate-limit figures GitHub reported (for metrics)."""
        ...
