"""One GitHub REST exchange: headers, timeouts, retries, rate-limit bookkeeping, translation."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Collection
from typing import Any, Protocol

import attrs
import httpx
import stamina
import structlog

from gharts_adapters.github._converters import PayloadError
from gharts_adapters.github._errors import (
    ServerError,
    Unauthorized,
    error_for_response,
    final_error,
    rate_limit_from,
)
from gharts_adapters.github.settings import RetryPolicy, Timeouts
from gharts_core.errors import GhartsError, GitHubError, GitHubRateLimited, GitHubUnavailable
from gharts_core.ports.clock import Clock
from gharts_core.ports.github import RateLimitStatus

log = structlog.get_logger(__name__)

API_VERSION = "2022-11-28"
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class Credentials(Protocol):
    """Something that can authorise a request and learn that GitHub refused it."""

    async def authorization(self) -> str:
        """Return the ``Authorization`` header value to send."""
        ...

    def reject(self, authorization: str) -> None:
        """Forget ``authorization`` because GitHub answered 401 to it."""
        ...


class RetryMode(enum.Enum):
    """Which failures a call may be repeated after."""

    IDEMPOTENT = "idempotent"  # 5xx, timeouts and transport errors
    UNSENT_ONLY = "unsent_only"  # only when the request provably never reached GitHub


@attrs.frozen
class _Request:
    method: str
    url: str
    json: Any
    etag: str | None
    expected: frozenset[int]


@attrs.frozen
class Reply:
    """The parts of a GitHub response the adapter uses."""

    status: int
    body: Any
    etag: str | None
    next_url: str | None


def _retryable(mode: RetryMode) -> Callable[[Exception], bool]:
    if mode is RetryMode.UNSENT_ONLY:
        return lambda exc: isinstance(exc, _UNSENT)
    return lambda exc: isinstance(exc, ServerError | httpx.TransportError | TimeoutError)


class GitHubSession:
    """Sends requests to one GitHub REST root over a shared :class:`httpx.AsyncClient`."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_url: str,
        clock: Clock,
        timeouts: Timeouts,
        retry: RetryPolicy,
        user_agent: str,
    ) -> None:
        self._client = client
        self.api_url = api_url.rstrip("/")
        self._origin = httpx.URL(self.api_url).copy_with(path="/", query=None)
        self._clock = clock
        self._timeouts = timeouts
        self._httpx_timeout = httpx.Timeout(timeouts.read, connect=timeouts.connect)
        self._retry = retry
        self._headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": user_agent,
        }
        self.rate_limit = RateLimitStatus(limit=None, remaining=None, reset_at=None)

    def url(self, path_or_url: str) -> str:
        """Resolve a REST path against the API root; refuse absolute URLs on another host."""
        if path_or_url.startswith("/"):
            return f"{self.api_url}{path_or_url}"
        if httpx.URL(path_or_url).copy_with(path="/", query=None) != self._origin:
            raise GitHubUnavailable("GitHub sent a link to another host; not following it.")
        return path_or_url

    async def send(
        self,
        method: str,
        path_or_url: str,
        *,
        credentials: Credentials,
        json: Any = None,
        etag: str | None = None,
        expected: Collection[int] = (),
        retry: RetryMode = RetryMode.IDEMPOTENT,
    ) -> Reply:
        """Send one call, retrying as ``retry`` allows; raise the core's errors otherwise."""
        url = self.url(path_or_url)
        request = _Request(method, url, json, etag, frozenset(expected))
        policy = self._retry
        try:
            async for attempt in stamina.retry_context(
                on=_retryable(retry),
                attempts=policy.attempts,
                timeout=policy.timeout,
                wait_initial=policy.wait_initial,
                wait_max=policy.wait_max,
                wait_jitter=policy.wait_jitter,
            ):
                with attempt:
                    return await self._authorised(request, credentials)
        except (GitHubRateLimited, GitHubUnavailable) as exc:
            log.warning("github.call_failed", method=method, url=url, error=type(exc).__name__)
            raise
        except (ServerError, Unauthorized, PayloadError, httpx.TransportError, TimeoutError) as exc:
            error = final_error(exc)
            log.warning("github.call_failed", method=method, url=url, error=error.detail)
            raise error from exc
        raise AssertionError("unreachable: stamina either returns or raises")  # pragma: no cover

    async def _authorised(self, request: _Request, credentials: Credentials) -> Reply:
        try:
            authorization = await credentials.authorization()
        except GhartsError as exc:
            if isinstance(exc, GitHubError):
                exc.request_sent = False  # no token, no request: GitHub did nothing
            raise
        try:
            return await self._once(request, authorization)
        except Unauthorized:
            # A cached installation token can be revoked early: one fresh token, one more try.
            credentials.reject(authorization)
            return await self._once(request, await credentials.authorization())

    async def _once(self, request: _Request, authorization: str) -> Reply:
        headers = {**self._headers, "Authorization": authorization}
        if request.etag is not None:
            headers["If-None-Match"] = request.etag
        # httpx's timeouts apply per socket operation and not at all to in-process transports.
        async with asyncio.timeout(self._timeouts.total):
            response = await self._client.request(
                request.method,
                request.url,
                headers=headers,
                json=request.json,
                timeout=self._httpx_timeout,
            )
        self._note_rate_limit(response)
        status = response.status_code
        if not (200 <= status < 300 or status in request.expected):
            raise error_for_response(response, self._clock.now())
        return Reply(
            status=status,
            body=_json(response),
            etag=response.headers.get("etag"),
            next_url=response.links.get("next", {}).get("url"),
        )

    def _note_rate_limit(self, response: httpx.Response) -> None:
        status = rate_limit_from(response.headers)
        if status is not None:
            self.rate_limit = status


def _json(response: httpx.Response) -> Any:
    if response.status_code in (204, 304) or not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise PayloadError("response body is not JSON") from exc
