"""The dashboard's login through the dev issuer: code flow with PKCE, sessions, logout."""

from __future__ import annotations

import pytest

from gharts_http.cli.dev.banner import banner
from gharts_http.cli.dev.seed import DEV_ADMIN_EMAIL, SeedReport
from gharts_http.dashboard.redirects import safe_return_path
from tests.integration.dashboard.dashboard_support import (
    PUBLIC_URL,
    DevDashboard,
    csrf_token,
    log_in,
    relative,
)


def plant(dev: DevDashboard, token: str) -> None:
    """Put ``token`` in the browser's session cookie, as an attacker or an old copy would."""
    dev.http.cookies.delete("gharts_session")
    dev.http.cookies.set("gharts_session", token, domain="127.0.0.1", path="/")


def test_the_dev_banner_prints_the_dashboard_url() -> None:
    lines = [
        line.strip()
        for line in banner(PUBLIC_URL, ".gharts-dev", SeedReport(created=())).splitlines()
    ]
    assert f"Dashboard:          {PUBLIC_URL}/  (log in as {DEV_ADMIN_EMAIL})" in lines


async def test_an_anonymous_visitor_logs_in_and_comes_back_to_the_page_asked_for(
    dev: DevDashboard,
) -> None:
    back = await log_in(dev.http, path="/teams?x=1")
    assert back.status_code == 303
    assert relative(back.headers["location"]) == "/teams?x=1"
    teams = await dev.http.get("/teams")
    assert teams.status_code == 200
    assert DEV_ADMIN_EMAIL in teams.text
    assert "demo" in teams.text


async def test_logout_ends_the_session_in_the_database(dev: DevDashboard) -> None:
    await log_in(dev.http)
    page = await dev.http.get("/")
    token = dev.http.cookies["gharts_session"]
    out = await dev.http.post(
        "/logout", data={"csrf_token": csrf_token(page.text)}, follow_redirects=False
    )
    assert out.status_code == 303
    plant(dev, token)  # a copy of the old cookie is worthless
    again = await dev.http.get("/", follow_redirects=False)
    assert again.status_code == 303
    assert relative(again.headers["location"]) == "/login?next=%2F"


@pytest.mark.parametrize(
    "asked",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\\\evil.example/",
        "/\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/ok\\r\\nSet-Cookie: x=1",
        "/login?next=//evil.example",
        "",
    ],
)
def test_only_a_same_origin_relative_path_is_a_return_path(asked: str) -> None:
    assert "/" == safe_return_path(asked.replace("\\\\r\\\\n", "\\r\\n"))


@pytest.mark.parametrize("asked", ["/", "/teams/demo", "/?team=demo&status=online"])
def test_a_relative_path_is_kept_as_the_return_path(asked: str) -> None:
    assert asked == safe_return_path(asked)


@pytest.mark.parametrize("asked", ["https://evil.example/", "//evil.example", "/\\\\evil.example"])
async def test_an_open_redirect_through_the_login_lands_on_the_runners_page(
    dev: DevDashboard, asked: str
) -> None:
    start = await dev.http.get("/login", params={"next": asked}, follow_redirects=False)
    assert start.status_code == 303
    assert start.headers["location"].startswith(f"{PUBLIC_URL}/dev/oidc/authorize?")
    # The return path travels in the signed login cookie; finishing the login goes home.
    back = await log_in(dev.http, path="/")
    assert "/" == relative(back.headers["location"])


async def test_the_session_id_changes_at_login_and_a_planted_one_is_never_used(
    dev: DevDashboard,
) -> None:
    plant(dev, "planted-by-an-attacker")
    await log_in(dev.http, path="/teams")
    first = dev.http.cookies["gharts_session"]
    assert "planted-by-an-attacker" != first
    await log_in(dev.http, path="/teams")  # a second login replaces the first session
    second = dev.http.cookies["gharts_session"]
    assert first != second
    plant(dev, first)
    assert 303 == (await dev.http.get("/teams", follow_redirects=False)).status_code


async def test_the_session_cookie_is_httponly_lax_and_not_secure_on_loopback_http(
    dev: DevDashboard,
) -> None:
    back = await log_in(dev.http)
    cookie = next(
        value
        for value in back.headers.get_list("set-cookie")
        if value.startswith("gharts_session=")
    )
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "samesite", "max-age"} <= attributes
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in attributes


async def test_a_forged_callback_without_the_login_cookie_is_refused(dev: DevDashboard) -> None:
    answer = await dev.http.get("/auth/callback", params={"code": "x", "state": "y"})
    assert answer.status_code == 400
    assert "No login was started from this browser" in answer.text
    assert "gharts_session" not in dev.http.cookies
