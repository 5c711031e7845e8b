"""GitHub's answers and httpx's failures translated into the core's errors, in one place."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import httpx

from gharts_adapters.github._converters import PayloadError
from gharts_core.errors import GhartsError, GitHubRateLimited, GitHubUnavailable
from gharts_core.ports.github import RateLimitStatus

SECONDARY_LIMIT_WAIT = 60  # seconds; GitHub's advice when a secondary limit names no wait


class ServerError(Exception):
    """GitHub answered 5xx: worth another attempt for idempotent calls."""

    def __init__(self, status: int) -> None:
        super().__init__(f"GitHub answered {status}")
        self.status = status


class Unauthorized(Exception):
    """GitHub refused the credentials (401): a cached installation token may have been revoked."""


def rate_limit_from(headers: httpx.Headers) -> RateLimitStatus | None:
    """Read GitHub's ``x-ratelimit-*`` headers, or ``None`` when the response has none."""
    limit = _int(headers.get("x-ratelimit-limit"))
    remaining = _int(headers.get("x-ratelimit-remaining"))
    reset = _int(headers.get("x-ratelimit-reset"))
    if limit is None and remaining is None and reset is None:
        return None
    reset_at = datetime.fromtimestamp(reset, UTC) if reset is not None else None
    return RateLimitStatus(limit=limit, remaining=remaining, reset_at=reset_at)


def error_for_response(response: httpx.Response, now: datetime) -> Exception:
    """Return what an unexpected status means: a core error, or a retryable internal one."""
    status = response.status_code
    if status in (403, 429):
        limited = _rate_limited(response, now)
        if limited is not None:
            return limited
    if status >= 500:
        return ServerError(status)
    if status == 401:
        return Unauthorized()
    return GitHubUnavailable(f"GitHub answered {status}: {_message(response)}", status=status)


def final_error(exc: BaseException) -> GhartsError:
    """Translate what was left after the retries into the core's error."""
    if isinstance(exc, GhartsError):
        return exc
    if isinstance(exc, ServerError):
        return GitHubUnavailable(f"GitHub answered {exc.status} after retries.", status=exc.status)
    if isinstance(exc, Unauthorized):
        return GitHubUnavailable("GitHub refused the app's credentials.", status=401)
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return GitHubUnavailable("GitHub did not answer in time.")
    if isinstance(exc, httpx.TransportError):
        return GitHubUnavailable(f"GitHub could not be reached ({type(exc).__name__}).")
    if isinstance(exc, PayloadError):
        return GitHubUnavailable("GitHub returned a response gharts cannot read.")
    raise exc


def _rate_limited(response: httpx.Response, now: datetime) -> GitHubRateLimited | None:
    headers = response.headers
    retry_after = _int(headers.get("retry-after"))
    if retry_after is not None:
        wait = max(retry_after, 1)
        return GitHubRateLimited(retry_after=wait, reset_at=now + timedelta(seconds=wait))
    if headers.get("x-ratelimit-remaining") == "0":
        reset = _int(headers.get("x-ratelimit-reset"))
        if reset is not None:
            reset_at = datetime.fromtimestamp(reset, UTC)
            wait = max(math.ceil((reset_at - now).total_seconds()), 1)
            return GitHubRateLimited(retry_after=wait, reset_at=reset_at)
        return GitHubRateLimited(retry_after=SECONDARY_LIMIT_WAIT)
    if "secondary rate limit" in _message(response).lower():
        return GitHubRateLimited(
            retry_after=SECONDARY_LIMIT_WAIT,
            reset_at=now + timedelta(seconds=SECONDARY_LIMIT_WAIT),
        )
    return None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    message = body.get("message") if isinstance(body, dict) else None
    return str(message)[:200] if message else response.reason_phrase


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None
