"""Operations endpoints, anonymous: liveness, readiness and Prometheus metrics.

Readiness checks the database (a query on the migrated schema), the trusted issuers' signing
keys (every issuer must have keys loaded) and GitHub (a cheap authenticated call through the
adapter, remembered for a minute when it succeeds so probes do not spend GitHub's budget).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs
import structlog
from litestar import HttpMethod, Litestar, MediaType, Response, get, route
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec

from gharts_core.errors import ErrorCode, GitHubRateLimited
from gharts_core.ports.clock import Clock
from gharts_core.ports.github import RunnerPlatform
from gharts_http.api.dependencies import ServicesDep
from gharts_http.api.errors import error_response, error_responses
from gharts_http.api.schemas.common import StatusBody
from gharts_http.bootstrap import Services
from gharts_http.metrics.registry import CONTENT_TYPE

_log = structlog.get_logger("gharts.ops")

STARTUP_WARM_SECONDS = 5.0
READY_RETRY_AFTER_SECONDS = 10
GITHUB_PROBE_TIMEOUT_SECONDS = 5.0
GITHUB_OK_TTL = timedelta(seconds=60)
GITHUB_FAILURE_TTL = timedelta(seconds=15)
# GitHub never hands out runner id 0: asking for it costs one cheap GET answered 404 when the
# installation token works, and fails when it does not.
PROBE_RUNNER_ID = 0
_TAGS = ["operations"]
NO_ISSUERS_HINT = "no [[auth.issuers]] configured, so every token is refused"


@attrs.frozen(kw_only=True)
class ReadinessBody:
    """Every readiness check passed."""

    status: str
    checks: dict[str, bool]


class GitHubProbe:
    """Whether GitHub accepts gharts' credentials, asked at most once per TTL."""

    def __init__(
        self,
        github: RunnerPlatform,
        clock: Clock,
        *,
        ok_ttl: timedelta = GITHUB_OK_TTL,
        failure_ttl: timedelta = GITHUB_FAILURE_TTL,
        timeout: float = GITHUB_PROBE_TIMEOUT_SECONDS,
    ) -> None:
        self._github = github
        self._clock = clock
        self._ok_ttl = ok_ttl
        self._failure_ttl = failure_ttl
        self._timeout = timeout
        self._lock = asyncio.Lock()
        self._result: tuple[bool, datetime] | None = None  # (usable, valid until)

    def _cached(self) -> bool | None:
        if self._result is None or self._clock.now() >= self._result[1]:
            return None
        return self._result[0]

    async def usable(self) -> bool:
        """Return whether GitHub answered the last probe; probe again when it is too old."""
        cached = self._cached()
        if cached is not None:
            return cached
        async with self._lock:  # concurrent probes share one GitHub call
            cached = self._cached()
            if cached is None:
                cached = await self._probe()
                ttl = self._ok_ttl if cached else self._failure_ttl
                self._result = (cached, self._clock.now() + ttl)
            return cached

    async def _probe(self) -> bool:
        try:
            async with asyncio.timeout(self._timeout):
                await self._github.get_runner(PROBE_RUNNER_ID)
        except GitHubRateLimited:
            return True  # GitHub accepted the credentials; only its budget is spent
        except Exception as error:  # a probe reports "not ready" whatever the failure
            _log.warning(
                "readiness.github_unusable",
                error_type=type(error).__name__,
                detail=getattr(error, "detail", None),
            )
            return False
        return True


def github_probe(state: State, services: Services) -> GitHubProbe:
    """Return the app's GitHub probe, creating it on first use."""
    probe = state.get("github_probe")
    if not isinstance(probe, GitHubProbe):
        probe = state["github_probe"] = GitHubProbe(services.github, services.clock)
    return probe


async def _database_answers(services: Services) -> bool:
    try:
        return await services.store.ping()
    except Exception as error:  # ping promises a boolean; a crash still means "not ready"
        _log.warning("readiness.database_ping_failed", error_type=type(error).__name__)
        return False


async def readiness_checks(services: Services, probe: GitHubProbe) -> dict[str, bool]:
    """Run the database, identity and GitHub checks concurrently; name -> passed."""
    database, github = await asyncio.gather(_database_answers(services), probe.usable())
    issuers: Mapping[str, bool] = services.identity.readiness()
    not_ready = sorted(issuer for issuer, ready in issuers.items() if not ready)
    if not issuers:
        # Every token would be refused: the service cannot serve anyone.
        _log.warning("readiness.no_trusted_issuers", hint=NO_ISSUERS_HINT)
    elif not_ready:
        _log.warning("readiness.issuer_keys_missing", issuers=not_ready)
    return {"database": database, "identity": bool(issuers) and not not_ready, "github": github}


async def warm_identity(app: Litestar) -> None:
    """Start-up hook: load the issuers' keys, giving up after a few seconds (they load later)."""
    services: Services = app.state.services
    warm = getattr(services.identity, "warm", None)
    if warm is None:
        return
    try:
        async with asyncio.timeout(STARTUP_WARM_SECONDS):
            await warm()
    except TimeoutError:
        _log.warning("startup.issuer_keys_slow", timeout_seconds=STARTUP_WARM_SECONDS)


# HEAD too: load balancers and uptime checkers often probe with it.
@route(
    "/healthz",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    tags=_TAGS,
    summary="Liveness: the process answers",
)
async def healthz() -> StatusBody:
    """Answer ``{"status": "ok"}`` while the process is alive (``HEAD``: the status alone)."""
    return StatusBody(status="ok")


@route(
    "/readyz",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    tags=_TAGS,
    summary="Readiness: database, issuer keys and GitHub credentials",
    responses={
        200: ResponseSpec(data_container=ReadinessBody, description="Ready to serve."),
        **error_responses(ErrorCode.SERVICE_UNAVAILABLE),
    },
)
async def readyz(services: ServicesDep, state: State) -> Response[Any]:
    """200 with every check when ready; 503 ``SERVICE_UNAVAILABLE`` naming the failed checks."""
    checks = await readiness_checks(services, github_probe(state, services))
    if all(checks.values()):
        return Response(ReadinessBody(status="ready", checks=checks))
    failed = ", ".join(name for name, passed in checks.items() if not passed)
    if not services.identity.readiness():
        failed = failed.replace("identity", f"identity ({NO_ISSUERS_HINT})")
    return error_response(
        ErrorCode.SERVICE_UNAVAILABLE,
        f"Not ready: {failed}.",
        {"checks": checks, "retry_after": READY_RETRY_AFTER_SECONDS},
    )


@get(
    "/metrics",
    tags=_TAGS,
    summary="Prometheus metrics",
    media_type=MediaType.TEXT,
    description="The Prometheus text format (version 0.0.4).",
)
async def metrics(services: ServicesDep) -> Response[bytes]:
    """Re-read the runner inventory from the database, then render every metric."""
    await services.metrics.refresh(services.store)
    # Litestar appends "; charset=utf-8" to text media types itself.
    media_type = CONTENT_TYPE.removesuffix("; charset=utf-8")
    return Response(services.metrics.render(), media_type=media_type)
