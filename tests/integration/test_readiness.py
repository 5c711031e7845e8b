"""``GET /readyz``: database, issuer keys and GitHub credentials, or 503 naming what failed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event

from gharts_adapters.identity import DevIssuer, JwtVerifier
from gharts_adapters.storage import create_store
from gharts_core.errors import GitHubRateLimited, GitHubUnavailable, StorageUnavailable
from gharts_core.ports.github import RunnerPlatform
from gharts_core.ports.identity import TokenVerifier
from gharts_core.ports.storage import Store
from gharts_core.testing import FakeClock, FakeRunnerPlatform, FakeStore, FakeTokenVerifier
from gharts_http.api.app import create_app
from gharts_http.bootstrap import bootstrap
from tests.integration.api_support import Api, running_api, settings_for
from tests.unit.builders import make_team

ALL_PASSED = {"database": True, "identity": True, "github": True}
READY = {"status": "ready", "checks": ALL_PASSED}


@asynccontextmanager
async def app_on(
    sqlite_url: str,
    *,
    store: Store | None = None,
    identity: TokenVerifier | None = None,
    github: RunnerPlatform | None = None,
    clock: FakeClock | None = None,
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app on the given ports (fakes by default where a test names none)."""
    services = bootstrap(
        settings_for(sqlite_url),
        store=store,
        identity=identity or FakeTokenVerifier(clock),
        github=github or FakeRunnerPlatform(clock=clock),
        clock=clock,
    )
    try:
        async with AsyncTestClient(create_app(services), base_url="http://gharts.test") as http:
            yield http
    finally:
        await services.aclose()


def not_ready(response: httpx.Response) -> tuple[Any, ...]:
    """The parts of a 503 a test checks: status, error code, ``Retry-After``, checks."""
    return (
        response.status_code,
        response.json()["error_code"],
        response.headers.get("Retry-After"),
        response.json()["checks"],
    )


def expected_not_ready(**checks: bool) -> tuple[Any, ...]:
    """A 503 whose checks are all true except those given."""
    return (503, "SERVICE_UNAVAILABLE", "10", ALL_PASSED | checks)


async def test_a_healthy_service_is_ready(api: Api) -> None:
    """Real database, dev issuer and simulator: 200 with every check passed, no token."""
    response = await api.call("GET", "/readyz", expect=200)
    assert READY == response.json()


async def test_an_unreachable_database_is_not_ready(tmp_path: Path) -> None:
    """A database that cannot be opened fails the database check."""
    url = f"sqlite+aiosqlite:///{tmp_path}/missing/directory/gharts.db"
    async with running_api(url) as api:
        response = await api.call("GET", "/readyz")
    assert expected_not_ready(database=False) == not_ready(response)


async def test_a_database_outage_is_not_ready_and_recovery_is(sqlite_url: str) -> None:
    """While the store fails the service is unready; once it heals it is ready again."""
    store = FakeStore()
    async with app_on(sqlite_url, store=store) as http:
        store.fail_with(StorageUnavailable())
        down = await http.get("/readyz")
        store.fail_with(None)
        up = await http.get("/readyz")
    assert expected_not_ready(database=False) == not_ready(down)
    assert (200, READY) == (up.status_code, up.json())


async def test_issuer_keys_that_cannot_be_fetched_are_not_ready(sqlite_url: str) -> None:
    """An issuer whose JWKS does not answer fails the identity check."""
    issuer = DevIssuer("https://issuer.test/dev/oidc")
    down = httpx.MockTransport(lambda _request: httpx.Response(503))
    async with httpx.AsyncClient(transport=down) as client:
        verifier = JwtVerifier([issuer.issuer_config()], client)
        async with app_on(sqlite_url, store=FakeStore(), identity=verifier) as http:
            response = await http.get("/readyz")
    assert expected_not_ready(identity=False) == not_ready(response)


async def test_issuer_keys_are_loaded_at_start_up(sqlite_url: str) -> None:
    """The app warms the issuers' keys when it starts, before any token arrives."""
    issuer = DevIssuer("https://issuer.test/dev/oidc")
    async with httpx.AsyncClient(transport=issuer.transport()) as client:
        verifier = JwtVerifier([issuer.issuer_config()], client)
        assert {issuer.issuer: False} == dict(verifier.readiness())
        async with app_on(sqlite_url, store=FakeStore(), identity=verifier):
            assert {issuer.issuer: True} == dict(verifier.readiness())


async def test_unusable_github_credentials_are_not_ready(sqlite_url: str) -> None:
    """GitHub refusing the probe fails the github check."""
    github = FakeRunnerPlatform()
    github.fail_always(GitHubUnavailable(status=401), method="get_runner")
    async with app_on(sqlite_url, store=FakeStore(), github=github) as http:
        response = await http.get("/readyz")
    assert expected_not_ready(github=False) == not_ready(response)


async def test_a_rate_limited_github_still_has_usable_credentials(sqlite_url: str) -> None:
    """A spent budget is not a credentials problem: the service stays ready."""
    github = FakeRunnerPlatform()
    github.fail_always(GitHubRateLimited(retry_after=60), method="get_runner")
    async with app_on(sqlite_url, store=FakeStore(), github=github) as http:
        response = await http.get("/readyz")
    assert (200, READY) == (response.status_code, response.json())


async def test_a_good_github_answer_is_reused_for_a_minute(sqlite_url: str) -> None:
    """Probes within 60 s of a success do not call GitHub again."""
    clock = FakeClock()
    github = FakeRunnerPlatform(clock=clock)
    async with app_on(sqlite_url, store=FakeStore(), github=github, clock=clock) as http:
        for _ in range(3):
            await http.get("/readyz")
            clock.advance(29)
        calls_within_a_minute = github.calls["get_runner"]
        clock.advance(5)
        await http.get("/readyz")
    assert (1, 2) == (calls_within_a_minute, github.calls["get_runner"])


async def test_a_github_failure_is_retried_sooner(sqlite_url: str) -> None:
    """After a failed probe GitHub is asked again 15 s later, and the service recovers."""
    clock = FakeClock()
    github = FakeRunnerPlatform(clock=clock)
    github.fail_always(GitHubUnavailable(), method="get_runner")
    async with app_on(sqlite_url, store=FakeStore(), github=github, clock=clock) as http:
        await http.get("/readyz")
        github.clear_faults()
        still_cached = await http.get("/readyz")
        clock.advance(15)
        recovered = await http.get("/readyz")
    assert (503, 200) == (still_cached.status_code, recovered.status_code)


async def test_no_trusted_issuer_is_not_ready_and_says_so(sqlite_url: str) -> None:
    """Without ``[[auth.issuers]]`` every token is refused: unready, with one clear sentence."""
    services = bootstrap(settings_for(sqlite_url), github=FakeRunnerPlatform())
    try:
        async with AsyncTestClient(create_app(services), base_url="http://gharts.test") as http:
            response = await http.get("/readyz")
    finally:
        await services.aclose()
    assert expected_not_ready(identity=False) == not_ready(response)
    assert "no [[auth.issuers]] configured" in response.json()["detail"]


async def test_probes_may_use_head(api: Api) -> None:
    """``HEAD /healthz`` and ``HEAD /readyz`` answer 200 without a body, as load balancers ask."""
    health = await api.call("HEAD", "/healthz")
    ready = await api.call("HEAD", "/readyz")
    assert [(200, b""), (200, b"")] == [(r.status_code, r.content) for r in (health, ready)]


async def test_sqlite_that_refuses_writes_is_not_ready(sqlite_url: str) -> None:
    """Reads pass on a read-only database file; once a write has failed, readiness says so."""
    store = create_store(sqlite_url)
    # Every connection read-only, as a file the process may no longer write to.
    event.listen(store.engine.sync_engine, "connect", _read_only)
    try:
        async with app_on(sqlite_url, store=store) as http:
            before = await http.get("/readyz")
            with pytest.raises(StorageUnavailable):
                async with store.unit_of_work() as uow:
                    await uow.teams.add(make_team("blocked"))
            after = await http.get("/readyz")
    finally:
        await store.close()
    assert 200 == before.status_code
    assert expected_not_ready(database=False) == not_ready(after)


def _read_only(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.execute("PRAGMA query_only = ON")
