"""The :class:`gharts_core.ports.RunnerPlatform` over GitHub's REST API."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import attrs
import httpx
import structlog

from gharts_adapters.github._auth import GitHubAppAuth, TokenCache
from gharts_adapters.github._converters import PayloadError, RunnerPage, jit_body, parse
from gharts_adapters.github._errors import final_error
from gharts_adapters.github._session import GitHubSession, Reply, RetryMode
from gharts_adapters.github.settings import GitHubSettings
from gharts_core.errors import Conflict, GitHubUnavailable
from gharts_core.model import ObservedRunner
from gharts_core.ports.clock import Clock, SystemClock
from gharts_core.ports.github import (
    JitConfig,
    JitRequest,
    ListedPage,
    RateLimitStatus,
    RegistrationToken,
)

log = structlog.get_logger(__name__)

T = TypeVar("T")
PER_PAGE = 100
_REPOSITORY = re.compile(r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9_.-]{1,100}$")


@attrs.frozen
class _CachedPage:
    etag: str | None
    runners: tuple[ObservedRunner, ...]
    next_url: str | None


class GitHubRunnerPlatform:
    """Self-hosted runners at one GitHub scope, through a GitHub App installation.

    The ``httpx.AsyncClient`` is the caller's: this class never opens or closes it. Installation
    tokens live in ``token_cache`` (by default one cache for the whole process).
    """

    def __init__(
        self,
        settings: GitHubSettings,
        client: httpx.AsyncClient,
        *,
        clock: Clock | None = None,
        token_cache: TokenCache | None = None,
    ) -> None:
        self._settings = settings
        clock = clock or SystemClock()
        self._session = GitHubSession(
            client,
            api_url=settings.api_url,
            clock=clock,
            timeouts=settings.timeouts,
            retry=settings.retry,
            user_agent=settings.user_agent,
        )
        self._auth = GitHubAppAuth(
            self._session,
            app_id=settings.app_id,
            installation_id=settings.installation_id,
            private_key_pem=settings.private_key_pem,
            clock=clock,
            cache=token_cache,
        )
        self._runners_path = settings.scope.runners_path
        self._pages: dict[str, _CachedPage] = {}

    @property
    def registration_url(self) -> str:
        """The URL a runner passes to ``config.sh --url`` for this scope."""
        return self._settings.registration_url

    async def create_jit_config(self, request: JitRequest) -> JitConfig:
        """Register a runner and return its JIT configuration (never logged).

        Retried only when the request never left: a repeated POST could register the runner
        twice. A name GitHub already knows raises :class:`Conflict` naming the existing runner.
        The whole call is cut at ``Timeouts.jit_call`` with :class:`GitHubUnavailable` (whether
        GitHub created the runner is then unknown).
        """
        deadline = self._settings.timeouts.jit_call
        try:
            async with asyncio.timeout(deadline):
                reply = await self._send(
                    "POST",
                    f"{self._runners_path}/generate-jitconfig",
                    json=jit_body(request),
                    expected=(409,),
                    retry=RetryMode.UNSENT_ONLY,
                )
                if reply.status == 409:
                    existing = await self._find_by_name(request.name)
                    where = f" (GitHub runner id {existing.id})" if existing else ""
                    raise Conflict(
                        f"A runner named '{request.name}' already exists on GitHub{where}."
                    )
        except TimeoutError:
            raise GitHubUnavailable(
                f"GitHub did not answer the JIT configuration request within {deadline:g} s."
            ) from None
        return self._parse(reply.body, JitConfig)

    async def create_registration_token(self) -> RegistrationToken:
        """Return a fresh registration token for the scope."""
        reply = await self._send("POST", f"{self._runners_path}/registration-token")
        return self._parse(reply.body, RegistrationToken)

    async def list_runners(self) -> Sequence[ObservedRunner]:
        """Return every runner, reading all pages; unchanged pages come back as 304s."""
        url = self._session.url(f"{self._runners_path}?per_page={PER_PAGE}")
        seen: dict[str, _CachedPage] = {}
        runners: list[ObservedRunner] = []
        next_url: str | None = url
        while next_url is not None:
            if next_url in seen:
                raise GitHubUnavailable("GitHub's runner pages link back to themselves.")
            page = await self._page(next_url)
            seen[next_url] = page
            runners.extend(page.runners)
            next_url = page.next_url
        self._pages = seen
        return runners

    def listed_pages(self) -> Sequence[ListedPage]:
        """Return the pages of the last complete listing that carried an ETag, in order."""
        return [
            ListedPage(url=url, etag=page.etag, runners=page.runners, next_url=page.next_url)
            for url, page in self._pages.items()
            if page.etag is not None
        ]

    def remember_pages(self, pages: Sequence[ListedPage]) -> None:
        """Seed the page cache with pages read before, so the next listing sends their ETags."""
        self._pages = {p.url: _CachedPage(p.etag, p.runners, p.next_url) for p in pages}

    async def get_runner(self, github_runner_id: int) -> ObservedRunner | None:
        """Return one runner, or ``None`` when GitHub no longer has it."""
        reply = await self._send("GET", f"{self._runners_path}/{github_runner_id}", expected=(404,))
        return None if reply.status == 404 else self._parse(reply.body, ObservedRunner)

    async def delete_runner(self, github_runner_id: int) -> bool:
        """Remove a runner; return ``False`` when GitHub had already forgotten it."""
        path = f"{self._runners_path}/{github_runner_id}"
        reply = await self._send("DELETE", path, expected=(404,))
        return reply.status != 404

    async def cancel_workflow_run(self, repository: str, run_id: int) -> None:
        """Cancel a workflow run; a run that already finished (409) needs nothing more."""
        if not _REPOSITORY.fullmatch(repository):
            raise ValueError(f"repository must be 'owner/name', got {repository!r}")
        path = f"/repos/{repository}/actions/runs/{run_id}/cancel"
        reply = await self._send("POST", path, expected=(409,))
        if reply.status == 409:
            log.info("github.run_already_finished", repository=repository, run_id=run_id)

    def rate_limit(self) -> RateLimitStatus:
        """Return the most recent rate-limit figures GitHub reported."""
        return self._session.rate_limit

    async def _page(self, url: str) -> _CachedPage:
        cached = self._pages.get(url)
        etag = cached.etag if cached else None
        reply = await self._send("GET", url, etag=etag, expected=(304,) if cached else ())
        if reply.status == 304 and cached is not None:
            return cached
        page = self._parse(reply.body, RunnerPage)
        return _CachedPage(reply.etag, page.runners, reply.next_url)

    async def _find_by_name(self, name: str) -> ObservedRunner | None:
        reply = await self._send("GET", f"{self._runners_path}?name={quote(name, safe='')}")
        page = self._parse(reply.body, RunnerPage)
        folded = name.lower()
        return next((r for r in page.runners if r.name.lower() == folded), None)

    async def _send(
        self,
        method: str,
        path_or_url: str,
        *,
        json: Any = None,
        etag: str | None = None,
        expected: tuple[int, ...] = (),
        retry: RetryMode = RetryMode.IDEMPOTENT,
    ) -> Reply:
        return await self._session.send(
            method,
            path_or_url,
            credentials=self._auth,
            json=json,
            etag=etag,
            expected=expected,
            retry=retry,
        )

    def _parse(self, body: Any, cls: type[T]) -> T:
        try:
            return parse(body, cls)
        except PayloadError as exc:
            raise final_error(exc) from exc


def build_runner_platform(
    settings: GitHubSettings,
    client: httpx.AsyncClient,
    *,
    clock: Clock | None = None,
    token_cache: TokenCache | None = None,
) -> GitHubRunnerPlatform:
    """Build the GitHub adapter on the caller's shared client (the composition root's factory)."""
    return GitHubRunnerPlatform(settings, client, clock=clock, token_cache=token_cache)
