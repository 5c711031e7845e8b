"""Dashboard pages in process: headers on every page, visibility, CSRF, readable errors."""

from __future__ import annotations

import attrs
import httpx
import pytest

from gharts_core.model import Principal
from gharts_core.services.admin_teams import CreateTeam, UpdateTeam
from gharts_core.services.admin_users import CreateUser
from gharts_core.services.provision import ProvisionJitRunner
from tests.integration.dashboard.dashboard_support import (
    PUBLIC_URL,
    DevDashboard,
    csrf_token,
    log_in,
)

SYSTEM = Principal.system()
MEMBER = "member@example.com"
OUTSIDER = "outsider@example.com"


@attrs.frozen
class World:
    """The dev app with a second team, a demo member, and one runner in each team."""

    dev: DevDashboard
    demo_runner: str
    other_runner: str


async def _as(dev: DevDashboard, email: str) -> Principal:
    return await dev.services.auth.authenticate(dev.issuer.mint_user_token(email))


@pytest.fixture
async def world(dev: DevDashboard) -> World:
    services = dev.services
    await services.teams.create_team(SYSTEM, CreateTeam(name="other", required_labels=("other",)))
    await services.users.create_user(
        SYSTEM, CreateUser(email=MEMBER, display_name="Member", teams=("demo",))
    )
    await services.users.create_user(
        SYSTEM, CreateUser(email=OUTSIDER, display_name="Outsider", teams=("other",))
    )
    demo = await services.provisioning.provision_jit(
        await _as(dev, MEMBER),
        ProvisionJitRunner(labels=["gpu-a100"], runner_name_prefix="mine", team_name="demo"),
    )
    other = await services.provisioning.provision_jit(
        await _as(dev, OUTSIDER), ProvisionJitRunner(runner_name_prefix="theirs", team_name="other")
    )
    return World(dev, str(demo.runner.id), str(other.runner.id))


def _headers_are_safe(response: httpx.Response) -> None:
    headers = response.headers
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy, response.url
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "nosniff" == headers["x-content-type-options"]
    assert "same-origin" == headers["referrer-policy"]
    assert "no-store" == headers["cache-control"]
    assert response.headers["content-type"].startswith("text/html")


async def test_every_page_has_the_security_headers_and_no_inline_script(world: World) -> None:
    http = world.dev.http
    anonymous = await http.get("/logged-out")
    _headers_are_safe(anonymous)
    await log_in(http)
    pages = [
        "/",
        "/?status=online&team=demo&label=demo&page_number=2",
        "/provision",
        "/teams",
        "/teams/demo",
        f"/runners/{world.demo_runner}",
        f"/runners/{world.demo_runner}/delete",
        "/admin/users",
        "/runners/not-a-runner",
        "/teams/nope",
        "/?status=bogus",
    ]
    for path in pages:
        response = await http.get(path)
        _headers_are_safe(response)
        assert "<script>" not in response.text
        assert 'style="' not in response.text
        assert "Traceback" not in response.text
    assert (await http.get("/runners/not-a-runner")).status_code == 404
    assert (await http.get("/?status=bogus")).status_code == 400


async def test_another_teams_runner_is_the_404_page_on_every_dashboard_route(
    world: World,
) -> None:
    http = world.dev.http
    await log_in(http, MEMBER)
    page = await http.get("/")
    assert "mine-" in page.text
    assert "theirs-" not in page.text
    token = csrf_token(page.text)
    hidden = world.other_runner
    for method, path in [
        ("GET", f"/runners/{hidden}"),
        ("GET", f"/runners/{hidden}/delete"),
        ("POST", f"/runners/{hidden}/refresh"),
        ("POST", f"/runners/{hidden}/delete"),
    ]:
        response = await http.request(method, path, data={"csrf_token": token})
        assert 404 == response.status_code, path
        assert "RUNNER_NOT_FOUND" in response.text
    assert 403 == (await http.get("/admin/users")).status_code
    assert "/teams/other" not in (await http.get("/teams")).text
    assert 403 == (await http.get("/teams/other")).status_code


async def test_a_form_without_the_sessions_csrf_token_or_from_elsewhere_is_refused(
    world: World,
) -> None:
    http = world.dev.http
    await log_in(http, MEMBER)
    token = csrf_token((await http.get("/provision")).text)
    form = {"team": "demo", "labels": "gpu-a100", "naming": "prefix", "name": "forged"}
    wrong = await http.post("/provision", data={**form, "csrf_token": "guessed"})
    elsewhere = await http.post(
        "/provision",
        data={**form, "csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )
    for refused in (wrong, elsewhere):
        assert 403 == refused.status_code
        assert "CSRF_REFUSED" in refused.text
    listed = await http.get("/")
    assert "forged-" not in listed.text
    ok = await http.post(
        "/provision", data={**form, "csrf_token": token}, headers={"Origin": PUBLIC_URL}
    )
    assert 201 == ok.status_code


async def test_the_quota_error_is_a_sentence_on_the_form_not_json(world: World) -> None:
    http = world.dev.http
    await world.dev.services.teams.update_team(SYSTEM, "demo", UpdateTeam(max_runners=1))
    await log_in(http, MEMBER)
    token = csrf_token((await http.get("/provision")).text)
    form = {"team": "demo", "labels": "gpu-a100", "naming": "prefix", "name": "more"}
    full = await http.post("/provision", data={**form, "csrf_token": token})
    assert 429 == full.status_code
    assert "Team &#39;demo&#39; is at its quota of 1 runners." in full.text
    assert "QUOTA_EXCEEDED" in full.text
    assert 'value="gpu-a100"' in full.text  # what was typed is kept


async def test_the_dry_run_says_what_the_policy_accepts_and_refuses(world: World) -> None:
    http = world.dev.http
    await log_in(http, MEMBER)
    token = csrf_token((await http.get("/provision")).text)
    accepted = await http.post(
        "/provision/dry-run", data={"team": "demo", "labels": "GPU-A100", "csrf_token": token}
    )
    assert "accepts" in accepted.text
    assert "gpu-a100" in accepted.text
    refused = await http.post(
        "/provision/dry-run", data={"team": "demo", "labels": "nope", "csrf_token": token}
    )
    assert "refuses" in refused.text
    assert "nope" in refused.text
    not_mine = await http.post(
        "/provision/dry-run", data={"team": "other", "labels": "x", "csrf_token": token}
    )
    assert "dry refused" in not_mine.text


async def test_an_unknown_path_is_the_404_page_for_a_browser_and_json_for_api_clients(
    dev: DevDashboard,
) -> None:
    """No raw JSON for a person who mistypes a page; the API's NOT_FOUND for everyone else."""
    http = dev.http
    browser = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}

    page = await http.get("/admin/users/x/y", headers=browser)
    api_path = await http.get("/api/v1/nowhere", headers=browser)
    client = await http.get("/admin/users/x/y", headers={"accept": "application/json"})

    assert (404, "text/html; charset=utf-8") == (page.status_code, page.headers["content-type"])
    assert "There is no page at /admin/users/x/y." in page.text
    _headers_are_safe(page)
    assert (404, "NOT_FOUND") == (api_path.status_code, api_path.json()["error_code"])
    assert (404, "NOT_FOUND") == (client.status_code, client.json()["error_code"])
