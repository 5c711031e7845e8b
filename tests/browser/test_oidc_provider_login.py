"""The dashboard's login against a real OpenID provider (panva/oidc-provider), not the dev issuer.

``gharts serve`` with ``[dashboard]`` enabled trusts the provider started from
``tests/contract/identity/oidc_provider/dashboard_server.mjs``; Chromium goes through the
provider's own login and consent pages (authorization code with PKCE) and lands back on the page
it asked for, logged in as the bootstrap admin the ID token names.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Request, expect

from tests.browser.browser_support import PAGE_TIMEOUT_MS, screenshot
from tests.oidc_support import started_node_script
from tests.processes import GHARTS, eventually, free_port

START_TIMEOUT = 60.0


@contextmanager
def provider(redirect_uri: str, log_dir: Path) -> Iterator[str]:
    """Start the provider for ``redirect_uri``; yield its issuer URL."""
    environ = {"REDIRECT_URI": redirect_uri}
    with started_node_script("dashboard_server.mjs", log_dir, environ) as ready:
        yield ready["issuer"]


@contextmanager
def gharts_serve(config: Path, port: int, log: Path) -> Iterator[str]:
    """Migrate, then run ``gharts serve`` with ``config`` on ``port``; yield its URL."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GHARTS_")}
    subprocess.run(  # noqa: S603 - our own console script
        [str(GHARTS), "--config", str(config), "db", "upgrade"],
        check=True,
        capture_output=True,
        env=environment,
        timeout=120,
    )
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [str(GHARTS), "--config", str(config), "serve", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        def healthy() -> bool | None:
            if process.poll() is not None:
                raise AssertionError(f"gharts serve exited:\n{log.read_text()}")
            try:
                return httpx.get(f"{url}/healthz", timeout=2).status_code == 200 or None
            except httpx.TransportError:
                return None

        eventually(healthy, timeout=START_TIMEOUT, what="gharts serve /healthz")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_person_logs_in_through_a_real_oidc_provider_with_pkce(
    browser: Browser, tmp_path: Path
) -> None:
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    with provider(f"{public_url}/auth/callback", tmp_path) as issuer:
        config = tmp_path / "gharts.toml"
        config.write_text(
            f"""
[server]
public_url = "{public_url}"
[database]
url = "sqlite+aiosqlite:///{tmp_path / "gharts.db"}"
[github]
mode = "simulator"
scope = "org:oidc-login"
[auth]
bootstrap_admins = ["alice@example.com"]
[[auth.issuers]]
issuer = "{issuer}"
audiences = ["gharts"]
[dashboard]
enabled = true
issuer = "{issuer}"
client_id = "gharts-dashboard"
""",
            encoding="utf-8",
        )
        with gharts_serve(config, port, tmp_path / "serve.log") as url:
            context = browser.new_context()
            context.set_default_timeout(PAGE_TIMEOUT_MS)
            from_dashboard: list[str] = []  # requests our pages made to other origins

            def record(request: Request) -> None:
                page_url = request.frame.url if not request.is_navigation_request() else ""
                if page_url.startswith(url) and not request.url.startswith(url):
                    from_dashboard.append(request.url)

            context.on("request", record)
            page = context.new_page()
            page.goto(f"{url}/teams")
            page.locator("input[name=login]").fill("alice")
            page.locator("input[name=password]").fill("any")
            page.locator("button[type=submit]").click()
            page.locator("button[type=submit]").click()  # the consent page: Continue
            expect(page.get_by_test_id("who")).to_have_text("alice@example.com")
            expect(page.locator(".badge.admin")).to_be_visible()
            assert page.url == f"{url}/teams"
            screenshot(page, "oidc-provider-login-teams")
            context.close()
    # The provider's own pages load what they like; the dashboard's never left their origin.
    assert [] == from_dashboard
