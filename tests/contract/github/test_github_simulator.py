"""The simulator's own promises: GitHub's shapes and rules, and its control API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from litestar import Litestar

from gharts_adapters.github import GitHubSettings, RetryPolicy, TokenCache, build_runner_platform
from gharts_adapters.github.simulator import Faults, GitHubSimulator, mount_simulator
from gharts_adapters.github.simulator.wiring import SimulatedGitHub, app_key_pair
from gharts_core.ports.github import JitRequest
from gharts_core.testing.clock import FakeClock
from tests.contract.github.github_openapi import ExchangeRecorder, GitHubOpenAPI

RUNNERS = "/orgs/acme/actions/runners"


@pytest.fixture
async def token(github: SimulatedGitHub) -> str:
    """Return an installation token the simulator issued."""
    result = github.simulator.create_installation_token(github.simulator.installation_id)
    return str(result.body["token"])


async def _get(github: SimulatedGitHub, token: str, url: str, **headers: str) -> httpx.Response:
    return await github.client.get(url, headers={"Authorization": f"Bearer {token}", **headers})


def _app_jwt(*, iat: int, exp: int, iss: str = "1001", key: str | None = None) -> str:
    private_pem = key or app_key_pair()[0]
    claims = {"iat": iat, "exp": exp, "iss": iss}
    return jwt.encode({"alg": "RS256"}, claims, RSAKey.import_key(private_pem))


async def test_runner_pages_carry_link_headers_honouring_per_page(
    github: SimulatedGitHub, token: str
) -> None:
    for i in range(5):
        github.simulator.register(f"r{i}", ["x"])

    first = await _get(github, token, f"{RUNNERS}?per_page=2")
    last = await _get(github, token, f"{RUNNERS}?per_page=2&page=3")

    base = f"https://api.github.test{RUNNERS}"
    assert {"next": f"{base}?per_page=2&page=2", "last": f"{base}?per_page=2&page=3"} == {
        rel: link["url"] for rel, link in first.links.items()
    }
    assert {"prev": f"{base}?per_page=2&page=2", "first": f"{base}?per_page=2&page=1"} == {
        rel: link["url"] for rel, link in last.links.items()
    }
    expected = (5, ["r0", "r1"], ["r4"])
    assert expected == (
        first.json()["total_count"],
        [r["name"] for r in first.json()["runners"]],
        [r["name"] for r in last.json()["runners"]],
    )


async def test_per_page_is_capped_at_one_hundred(github: SimulatedGitHub, token: str) -> None:
    for i in range(120):
        github.simulator.register(f"r{i}", ["x"])

    page = await _get(github, token, f"{RUNNERS}?per_page=500")

    expected = 100
    assert expected == len(page.json()["runners"])


async def test_matching_if_none_match_answers_304_without_spending_budget(
    github: SimulatedGitHub, token: str
) -> None:
    first = await _get(github, token, RUNNERS)

    second = await _get(github, token, RUNNERS, **{"If-None-Match": first.headers["etag"]})

    expected = (304, b"")
    assert expected == (second.status_code, second.content)
    assert first.headers["x-ratelimit-remaining"] == second.headers["x-ratelimit-remaining"]


async def test_every_counted_call_spends_one_unit_of_the_budget(
    github: SimulatedGitHub, token: str
) -> None:
    first = await _get(github, token, RUNNERS)
    second = await _get(github, token, f"{RUNNERS}/1")

    expected = ("5000", "4999", "4998")
    assert expected == (
        first.headers["x-ratelimit-limit"],
        first.headers["x-ratelimit-remaining"],
        second.headers["x-ratelimit-remaining"],
    )


async def test_unknown_token_gets_githubs_bad_credentials(github: SimulatedGitHub) -> None:
    response = await _get(github, "ghs_forged", RUNNERS)

    expected = (401, "Bad credentials")
    assert expected == (response.status_code, response.json()["message"])
    assert "documentation_url" in response.json()


async def test_expired_installation_token_is_refused(simulated: Any) -> None:
    clock = FakeClock()
    async with simulated(clock=clock) as github:
        issued = github.simulator.create_installation_token(github.simulator.installation_id)
        clock.advance(timedelta(hours=1))

        response = await _get(github, issued.body["token"], RUNNERS)

    expected = 401
    assert expected == response.status_code


@pytest.mark.parametrize(
    ("iat_offset", "exp_offset", "iss", "foreign_key"),
    [
        pytest.param(-660, -60, "1001", False, id="expired"),
        pytest.param(-60, 660, "1001", False, id="lives-too-long"),
        pytest.param(600, 900, "1001", False, id="issued-in-the-future"),
        pytest.param(-60, 480, "9999", False, id="other-app"),
        pytest.param(-60, 480, "1001", True, id="signed-by-another-key"),
    ],
)
async def test_bad_app_jwt_cannot_create_installation_tokens(
    github: SimulatedGitHub, iat_offset: int, exp_offset: int, iss: str, foreign_key: bool
) -> None:
    now = int(github.simulator.clock.now().timestamp())
    key = RSAKey.generate_key(2048).as_pem(private=True).decode() if foreign_key else None
    token = _app_jwt(iat=now + iat_offset, exp=now + exp_offset, iss=iss, key=key)

    response = await github.client.post(
        "/app/installations/2002/access_tokens", headers={"Authorization": f"Bearer {token}"}
    )

    expected = 401
    assert expected == response.status_code
    assert {"message", "documentation_url", "status"} == set(response.json())


async def test_valid_app_jwt_for_another_installation_gets_404(github: SimulatedGitHub) -> None:
    now = int(github.simulator.clock.now().timestamp())
    token = _app_jwt(iat=now - 60, exp=now + 480)

    response = await github.client.post(
        "/app/installations/1/access_tokens", headers={"Authorization": f"Bearer {token}"}
    )

    expected = 404
    assert expected == response.status_code


async def test_invalid_jit_body_is_refused_with_422(
    github: SimulatedGitHub, token: str, recorder: ExchangeRecorder
) -> None:
    response = await github.client.post(
        f"{RUNNERS}/generate-jitconfig",
        headers={"Authorization": f"Bearer {token}"},
        json={"name": "r", "runner_group_id": 1, "labels": []},
    )

    expected = (422, [])
    assert expected == (response.status_code, list(github.simulator.runners()))
    expected = (
        "POST /orgs/{org}/actions/runners/generate-jitconfig request: "
        "[] should be non-empty at ['labels']"
    )
    assert [expected] == recorder.problems
    recorder.problems.clear()  # the OpenAPI check caught the deliberately invalid body


async def test_control_api_drives_a_runner_through_its_life(github: SimulatedGitHub) -> None:
    client = github.client
    created = await client.post(
        "/_simulator/runners", json={"name": "manual", "labels": ["gpu"], "ephemeral": True}
    )
    runner_id = created.json()["id"]
    states = []
    for action in ("online", "busy", "idle", "offline"):
        response = await client.post(f"/_simulator/runners/{runner_id}/{action}")
        states.append((response.json()["status"], response.json()["busy"]))
    finished = await client.post(f"/_simulator/runners/{runner_id}/finish")
    listing = await client.get("/_simulator/runners")

    expected = (
        (201, [("online", False), ("online", True), ("online", False), ("offline", False)]),
        (204, {"total_count": 0, "runners": []}),
    )
    assert expected == ((created.status_code, states), (finished.status_code, listing.json()))


async def test_control_api_relabels_and_removes_runners(github: SimulatedGitHub) -> None:
    runner_id = github.simulator.register("manual", ["gpu"])["id"]

    relabelled = await github.client.put(
        f"/_simulator/runners/{runner_id}/labels", json={"labels": ["cpu", "rogue"]}
    )
    removed = await github.client.delete(f"/_simulator/runners/{runner_id}")
    again = await github.client.delete(f"/_simulator/runners/{runner_id}")

    custom = [lb["name"] for lb in relabelled.json()["labels"] if lb["type"] == "custom"]
    expected = (["cpu", "rogue"], (204, 404))
    assert expected == (custom, (removed.status_code, again.status_code))


async def test_control_api_lists_runners_with_their_scope(github: SimulatedGitHub) -> None:
    github.simulator.register("a", ["x"])
    github.simulator.register("b", ["x"], scope="repo:acme/api")

    everything = (await github.client.get("/_simulator/runners")).json()
    repo_only = (await github.client.get("/_simulator/runners?scope=repo:acme/api")).json()

    expected = ([("a", "org:acme"), ("b", "repo:acme/api")], ["b"])
    assert expected == (
        [(r["name"], r["scope"]) for r in everything["runners"]],
        [r["name"] for r in repo_only["runners"]],
    )


@pytest.mark.parametrize(
    "body",
    [
        {"status": 200},
        {"rate": 1.5},
        {"latency_ms": -1},
        {"answer_latency_ms": -1},
        {"colour": "red"},
        {"timeout": "yes"},
    ],
)
async def test_control_api_refuses_bad_faults(github: SimulatedGitHub, body: Any) -> None:
    response = await github.client.put("/_simulator/faults", json=body)

    expected = 400
    assert expected == response.status_code
    assert github.simulator.faults is None


async def test_control_api_unknown_runner_or_action_is_404(github: SimulatedGitHub) -> None:
    runner_id = github.simulator.register("r", ["x"])["id"]

    unknown_runner = await github.client.post("/_simulator/runners/999/online")
    unknown_action = await github.client.post(f"/_simulator/runners/{runner_id}/explode")

    expected = (404, 404)
    assert expected == (unknown_runner.status_code, unknown_action.status_code)


async def test_faults_set_over_http_hit_github_calls_until_cleared(
    github: SimulatedGitHub, token: str
) -> None:
    body = {"status": 503, "rate": 1.0, "latency_ms": 0, "rate_limit_remaining": None}

    put = await github.client.put("/_simulator/faults", json=body)
    failing = await _get(github, token, RUNNERS)
    shown = await github.client.get("/_simulator/faults")
    cleared = await github.client.delete("/_simulator/faults")
    healthy = await _get(github, token, RUNNERS)

    expected = (200, 503, 204, 200)
    assert expected == (
        put.status_code,
        failing.status_code,
        cleared.status_code,
        healthy.status_code,
    )
    expected = 503
    assert expected == shown.json()["status"]


async def test_fault_rate_is_reproducible_from_its_seed(
    github: SimulatedGitHub, token: str
) -> None:
    async def statuses() -> list[int]:
        github.simulator.set_faults(Faults(status=500, rate=0.5, seed=11))
        return [(await _get(github, token, RUNNERS)).status_code for _ in range(20)]

    first, second = await statuses(), await statuses()

    assert first == second
    assert {200, 500} == set(first)


async def test_secondary_limit_fault_answers_403_with_retry_after(
    github: SimulatedGitHub, token: str
) -> None:
    github.simulator.set_faults(Faults(secondary_limit=True, retry_after=30))

    response = await _get(github, token, RUNNERS)

    expected = (403, "30")
    assert expected == (response.status_code, response.headers["retry-after"])
    assert "secondary rate limit" in response.json()["message"]


@pytest.fixture
async def mounted(openapi: GitHubOpenAPI) -> AsyncIterator[tuple[Any, GitHubSimulator, Any]]:
    """Yield an adapter reaching a simulator mounted under ``/_github`` in another app."""
    private_pem, public_pem = app_key_pair()
    simulator = GitHubSimulator(app_id=7, installation_id=8, app_public_key_pem=public_pem)
    app = Litestar(route_handlers=[mount_simulator(simulator, "/_github")])
    recorder = ExchangeRecorder(openapi, api_prefix="/_github")
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(
        transport=transport, base_url="http://gharts.test", event_hooks={"response": [recorder]}
    ) as client:
        settings = GitHubSettings(
            scope="enterprise:big-corp",
            app_id=7,
            installation_id=8,
            private_key_pem=private_pem,
            api_url="http://gharts.test/_github",
            retry=RetryPolicy.immediate(),
        )
        platform = build_runner_platform(settings, client, token_cache=TokenCache())
        yield platform, simulator, client
    expected = ([], True)
    assert expected == (recorder.problems, recorder.validated > 0)


async def test_mounted_simulator_serves_the_adapter_and_links_under_its_prefix(
    mounted: tuple[Any, GitHubSimulator, httpx.AsyncClient],
) -> None:
    platform, simulator, client = mounted
    for i in range(150):
        simulator.register(f"r{i}", ["x"], scope="enterprise:big-corp")

    runners = await platform.list_runners()
    control = await client.get("/_github/_simulator/runners")

    pages = {status: n for (op, status), n in simulator.responses.items() if op == "list_runners"}
    expected = (150, {200: 2}, 150)
    assert expected == (len(runners), pages, control.json()["total_count"])


async def test_a_late_answer_comes_after_github_created_the_runner(
    github: SimulatedGitHub,
) -> None:
    """``answer_latency_ms``: the runner exists on GitHub while its creator still waits; clearing
    the faults sends the answer held back at once."""
    await github.platform.list_runners()  # the installation token, fetched before the faults
    github.simulator.set_faults(Faults(answer_latency_ms=60_000))
    call = asyncio.create_task(github.platform.create_jit_config(JitRequest("late", 1, ("x",))))
    try:
        for _ in range(1000):
            listed = await github.client.get("/_simulator/runners")
            if listed.json()["runners"]:
                break
            await asyncio.sleep(0.01)
        names = [runner["name"] for runner in listed.json()["runners"]]
        assert (["late"], False) == (names, call.done())
        cleared = await github.client.delete("/_simulator/faults")
        config = await asyncio.wait_for(call, timeout=30)  # released, not 60 s later
    finally:
        call.cancel()
    assert (204, "late") == (cleared.status_code, config.runner.name)
