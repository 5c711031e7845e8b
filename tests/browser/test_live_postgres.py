"""Live updates across processes: a worker in another process changes a runner on PostgreSQL and
the page open on ``gharts serve`` shows it, without a reload.

Three processes share one GitHub (``gharts simulator``) and one PostgreSQL database: ``gharts
serve`` with the dashboard, ``gharts worker`` syncing every second, and the simulator. The person
logs in through a real OpenID provider (see ``test_oidc_provider_login.py``), provisions through
the form, and keeps the runner's page open while the simulator brings the runner online; the
worker's write is NOTIFYed by the database, heard by ``serve``'s LISTEN, and pushed to the page.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.browser_support import PAGE_TIMEOUT_MS, screenshot
from tests.browser.test_oidc_provider_login import START_TIMEOUT, gharts_serve, provider
from tests.postgres import require_postgres, temporary_database
from tests.processes import GHARTS, free_port

pytestmark = pytest.mark.postgres
ENVIRONMENT = {k: v for k, v in os.environ.items() if not k.startswith("GHARTS_")}


@pytest.fixture(scope="module", autouse=True)
def database_url() -> Iterator[str]:
    """A throwaway database, made before the browser starts (it holds an event loop)."""
    require_postgres()
    with temporary_database(prefix="gharts_live") as url:
        yield url


@contextmanager
def simulator(state: Path, log: Path) -> Iterator[dict[str, str]]:
    """Run ``gharts simulator``; yield the GitHub App settings it prints."""
    port = free_port()
    with log.open("w") as errors:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [str(GHARTS), "simulator", "--port", str(port), "--state", str(state)],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=ENVIRONMENT,
        )
    assert process.stdout is not None
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=START_TIMEOUT):
                pytest.fail(f"gharts simulator did not start: {log.read_text()}")
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


@contextmanager
def worker(config: Path, log: Path) -> Iterator[None]:
    """Run ``gharts worker`` with ``config`` until the block ends."""
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [str(GHARTS), "--config", str(config), "worker"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=ENVIRONMENT,
        )
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def _admin(config: Path, *words: str) -> None:
    subprocess.run(  # noqa: S603 - our own console script
        [str(GHARTS), "--config", str(config), "admin", *words, "--output", "json"],
        check=True,
        capture_output=True,
        env=ENVIRONMENT,
        timeout=120,
    )


def test_a_worker_in_another_process_turns_a_runner_online_on_an_open_page(
    browser: Browser, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    with (
        simulator(tmp_path / "github.json", tmp_path / "simulator.log") as github,
        provider(f"{public_url}/auth/callback", tmp_path) as issuer,
    ):
        config = tmp_path / "gharts.toml"
        config.write_text(
            f"""
[server]
public_url = "{public_url}"
[database]
url = "{database_url}"
[github]
mode = "app"
scope = "{github["scope"]}"
api_url = "{github["api_url"]}"
app_id = {github["app_id"]}
installation_id = {github["installation_id"]}
private_key_path = "{github["private_key_path"]}"
[sync]
interval_seconds = 1
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
            _admin(config, "teams", "create", "demo", "--required-labels", "demo")
            _admin(config, "users", "create", "--email", "alice@example.com", "--name", "Alice",
                   "--teams", "demo")  # fmt: skip
            with worker(config, tmp_path / "worker.log"):
                context = browser.new_context()
                context.set_default_timeout(PAGE_TIMEOUT_MS)
                page = context.new_page()
                page.goto(f"{url}/provision")
                page.locator("input[name=login]").fill("alice")
                page.locator("input[name=password]").fill("any")
                page.locator("button[type=submit]").click()
                page.locator("button[type=submit]").click()  # consent
                page.get_by_label("Name or prefix").fill("live")
                page.get_by_role("button", name="Provision").click()
                page.get_by_role("link", name="Open the runner").click()
                status = page.get_by_test_id("status")
                expect(status).to_have_text("pending")
                expect(page.locator("body[data-live='connected']")).to_have_count(1)
                control = f"{github['api_url']}/_simulator/runners"
                runners = httpx.get(control, timeout=30).json()
                [runner] = [r for r in _items(runners) if r["name"].startswith("live-")]
                httpx.post(f"{control}/{runner['id']}/online", timeout=30).raise_for_status()
                expect(status).to_have_text("online")
                screenshot(page, "runner-online-across-processes")
                context.close()


def _items(listing: object) -> list[dict[str, object]]:
    if isinstance(listing, dict):
        return list(listing.get("runners", []))
    assert isinstance(listing, list)
    return listing
