"""What the adapter sends and refuses: app JWT, headers, transport failures, secrets, links."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from structlog.testing import capture_logs

from gharts_adapters.github import (
    GitHubRunnerPlatform,
    GitHubSettings,
    RetryPolicy,
    ScopeKind,
    TokenCache,
    build_runner_platform,
)
from gharts_adapters.github.simulator import GitHubSimulator, create_simulator_app
from gharts_adapters.github.simulator.wiring import app_key_pair, simulated_github
from gharts_core.errors import GitHubRateLimited, GitHubUnavailable
from gharts_core.ports.github import JitRequest
from gharts_core.testing.clock import FakeClock
from tests.contract.github.github_support import SimulatedFactory

JIT = JitRequest(name="r", runner_group_id=1, labels=("gpu",))


class FlakyTransport(httpx.AsyncBaseTransport):
    """Raise ``error`` for the first ``times`` requests matching ``path``, then pass through."""

    def __init__(self, inner: httpx.AsyncBaseTransport, path: str, error: Exception) -> None:
        self._inner = inner
        self._path = path
        self._error = error
        self.failed = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Fail once on the matching path, else forward."""
        if self.failed == 0 and request.url.path.endswith(self._path):
            self.failed += 1
            raise self._error
        return await self._inner.handle_async_request(request)


@pytest.fixture
async def flaky() -> AsyncIterator[Callable[[str, Exception], Any]]:
    """Yield a factory of (platform, simulator, transport) with one injected transport error."""
    clients: list[httpx.AsyncClient] = []

    def build(path: str, error: Exception) -> tuple[GitHubRunnerPlatform, GitHubSimulator]:
        private_pem, public_pem = app_key_pair()
        simulator = GitHubSimulator(app_id=1, installation_id=2, app_public_key_pem=public_pem)
        inner = httpx.ASGITransport(app=create_simulator_app(simulator))  # type: ignore[arg-type]
        client = httpx.AsyncClient(transport=FlakyTransport(inner, path, error))
        clients.append(client)
        settings = GitHubSettings(
            scope="org:acme",
            app_id=1,
            installation_id=2,
            private_key_pem=private_pem,
            api_url="https://api.github.test",
            retry=RetryPolicy.immediate(),
        )
        return build_runner_platform(settings, client, token_cache=TokenCache()), simulator

    yield build
    for client in clients:
        await client.aclose()


async def test_jit_request_that_never_left_is_retried(flaky: Any) -> None:
    platform, simulator = flaky("/generate-jitconfig", httpx.ConnectError("refused"))

    config = await platform.create_jit_config(JIT)

    expected = ("r", 1)
    assert expected == (config.runner.name, simulator.calls["generate_jitconfig"])


async def test_jit_request_lost_after_sending_is_not_retried(flaky: Any) -> None:
    platform, simulator = flaky("/generate-jitconfig", httpx.ReadError("reset"))

    with pytest.raises(GitHubUnavailable, match="ReadError"):
        await platform.create_jit_config(JIT)

    assert simulator.calls["generate_jitconfig"] == 0  # a second attempt would have succeeded


async def test_idempotent_call_is_retried_after_a_dropped_connection(flaky: Any) -> None:
    platform, simulator = flaky("/actions/runners/9", httpx.ReadError("reset"))

    assert await platform.get_runner(9) is None
    expected = 1
    assert expected == simulator.calls["get_runner"]


async def test_app_jwt_is_rs256_issued_a_minute_ago_for_nine_minutes() -> None:
    clock = FakeClock(datetime(2026, 5, 1, 8, 0, tzinfo=UTC))
    seen: list[str] = []

    async def capture(request: httpx.Request) -> None:
        if request.url.path.endswith("/access_tokens"):
            seen.append(request.headers["authorization"].removeprefix("Bearer "))

    async with simulated_github(clock=clock, event_hooks={"request": [capture]}) as github:
        await github.platform.list_runners()

    token = jwt.decode(seen[0], RSAKey.import_key(app_key_pair()[1]), algorithms=["RS256"])
    now = int(clock.now().timestamp())
    assert {"iat": now - 60, "exp": now - 60 + 540, "iss": "1001"} == token.claims
    expected = "RS256"
    assert expected == token.header["alg"]


async def test_requests_carry_githubs_media_type_and_api_version(
    simulated: SimulatedFactory,
) -> None:
    headers: list[httpx.Headers] = []

    async def capture(request: httpx.Request) -> None:
        headers.append(request.headers)

    async with simulated(event_hooks={"request": [capture]}) as github:
        await github.platform.list_runners()

    assert {("application/vnd.github+json", "2022-11-28")} == {
        (h["accept"], h["x-github-api-version"]) for h in headers
    }


async def test_secrets_never_reach_the_logs(simulated: SimulatedFactory) -> None:
    async with simulated() as github:
        with capture_logs() as logs:
            config = await github.platform.create_jit_config(JIT)
            token = await github.platform.create_registration_token()
            github.simulator.revoke_tokens()
            await github.platform.list_runners()

    text = repr(logs)
    assert logs != []
    assert config.encoded_jit_config not in text
    assert token.token not in text
    assert "ghs_" not in text
    assert "PRIVATE KEY" not in repr(github.settings)


def _mock_platform(handler: Callable[[httpx.Request], httpx.Response]) -> tuple[Any, Any]:
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/access_tokens"):
            return httpx.Response(201, json={"token": "t", "expires_at": "2099-01-01T00:00:00Z"})
        return handler(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(route))
    settings = GitHubSettings(
        scope="org:acme",
        app_id=1,
        installation_id=2,
        private_key_pem=app_key_pair()[0],
        retry=RetryPolicy.immediate(),
    )
    return build_runner_platform(settings, client, token_cache=TokenCache()), client


async def test_a_link_to_another_host_is_not_followed() -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        link = '<https://evil.example/orgs/acme/actions/runners?page=2>; rel="next"'
        return httpx.Response(200, json={"total_count": 0, "runners": []}, headers={"link": link})

    platform, client = _mock_platform(handler)
    async with client:
        with pytest.raises(GitHubUnavailable, match="another host"):
            await platform.list_runners()

    expected = ["api.github.com"]
    assert expected == hosts


async def test_an_unreadable_runner_is_github_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": 1, "name": "r"})

    platform, client = _mock_platform(handler)
    async with client:
        with pytest.raises(GitHubUnavailable, match="cannot read"):
            await platform.get_runner(1)


async def test_a_403_that_is_not_a_rate_limit_is_github_unavailable_at_once() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(403, json={"message": "Resource not accessible by integration"})

    platform, client = _mock_platform(handler)
    async with client:
        with pytest.raises(GitHubUnavailable, match="not accessible") as raised:
            await platform.delete_runner(1)

    expected = (403, 1)
    assert expected == (raised.value.status, len(calls))


@pytest.mark.parametrize(
    ("scope", "prefix"),
    [
        ("org:acme", "/orgs/acme/actions/runners"),
        ("repo:acme/api", "/repos/acme/api/actions/runners"),
        ("enterprise:big-corp", "/enterprises/big-corp/actions/runners"),
    ],
)
async def test_each_scope_calls_its_own_rest_paths(
    simulated: SimulatedFactory, scope: str, prefix: str
) -> None:
    paths: list[tuple[str, str]] = []

    async def capture(request: httpx.Request) -> None:
        paths.append((request.method, request.url.path))

    async with simulated(scope=scope, event_hooks={"request": [capture]}) as github:
        config = await github.platform.create_jit_config(JIT)
        await github.platform.create_registration_token()
        await github.platform.list_runners()
        await github.platform.get_runner(config.runner.id)
        await github.platform.delete_runner(config.runner.id)
        await github.platform.cancel_workflow_run("acme/web", 12)

    assert [
        ("POST", "/app/installations/2002/access_tokens"),
        ("POST", f"{prefix}/generate-jitconfig"),
        ("POST", f"{prefix}/registration-token"),
        ("GET", prefix),
        ("GET", f"{prefix}/{config.runner.id}"),
        ("DELETE", f"{prefix}/{config.runner.id}"),
        ("POST", "/repos/acme/web/actions/runs/12/cancel"),
    ] == paths
    assert ScopeKind(scope.split(":", maxsplit=1)[0]) == github.settings.scope.kind


async def test_cancel_refuses_a_repository_that_is_not_owner_slash_name(
    simulated: SimulatedFactory,
) -> None:
    async with simulated() as github:
        with pytest.raises(ValueError, match="owner/name"):
            await github.platform.cancel_workflow_run("../../admin", 1)


@pytest.mark.parametrize(
    ("response", "error", "detail"),
    [
        pytest.param(
            httpx.Response(429, headers={"retry-after": "7"}), GitHubRateLimited, "7 s", id="429"
        ),
        pytest.param(
            httpx.Response(403, json={"message": "You have exceeded a secondary rate limit."}),
            GitHubRateLimited,
            "60 s",
            id="secondary-without-retry-after",
        ),
        pytest.param(
            httpx.Response(401, json={"message": "Bad credentials"}),
            GitHubUnavailable,
            "credentials",
            id="401-twice",
        ),
        pytest.param(
            httpx.Response(200, content=b"<html>"), GitHubUnavailable, "cannot read", id="not-json"
        ),
        pytest.param(
            httpx.Response(422, json={"message": "Validation Failed"}),
            GitHubUnavailable,
            "422: Validation Failed",
            id="422",
        ),
    ],
)
async def test_github_answers_translate_into_core_errors(
    response: httpx.Response, error: type[Exception], detail: str
) -> None:
    platform, client = _mock_platform(lambda _request: response)
    async with client:
        with pytest.raises(error, match=detail):
            await platform.list_runners()
