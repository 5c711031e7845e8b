"""Fixtures of the browser tests: one ``gharts dev`` and one browser per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.browser.browser_support import (
    CHROMIUM,
    PAGE_TIMEOUT_MS,
    DevServer,
    OriginGuard,
    gharts_dev,
)

# Generous but bounded: the machine running the tests may be loaded.
expect.set_options(timeout=PAGE_TIMEOUT_MS)


# Module scope: Playwright's sync API holds an event loop while it runs, which the asyncio tests
# collected after this folder must not find.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    with gharts_dev(tmp_path_factory.mktemp("gharts-dev")) as server:
        yield server


@pytest.fixture
def guard(dev_server: DevServer) -> OriginGuard:
    return OriginGuard(dev_server.base_url)


@pytest.fixture
def context(browser: Browser, guard: OriginGuard) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    context.on("request", guard)
    yield context
    context.close()
    assert [] == guard.foreign, "requests left the origin"


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
