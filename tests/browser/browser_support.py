"""A real ``gharts dev`` process, driven by headless Chromium through Playwright.

Debian's ``chromium`` package is the browser (``/usr/bin/chromium``; Playwright's own browser
download is never used). Every wait is on a condition (Playwright's ``expect`` and ``wait_for``,
or a bounded poll of the server), never a fixed sleep.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import attrs
import httpx
import pytest
from playwright.sync_api import Page, Request

from tests.processes import GHARTS, eventually, free_port, stop

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"
START_TIMEOUT = 90.0
PAGE_TIMEOUT_MS = 30_000
T = TypeVar("T")


@attrs.define
class DevServer:
    """A running ``gharts dev``, with an admin API client for the tests' own set-up."""

    process: subprocess.Popen[bytes]
    base_url: str
    cwd: Path
    logs: Path

    def token(self, email: str) -> str:
        """Return a dev token for ``email`` (``gharts dev token``, as the banner says)."""
        done = subprocess.run(  # noqa: S603 - our own console script
            [str(GHARTS), "dev", "token", "--email", email],
            cwd=self.cwd,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout.strip()

    def api(self, method: str, path: str, *, email: str = "admin@gharts.dev", **kwargs: Any) -> Any:
        """Call the API as ``email``; return the JSON body (raise on an error status)."""
        headers = {"Authorization": f"Bearer {self.token(email)}"}
        response = httpx.request(
            method, self.base_url + path, headers=headers, timeout=30, **kwargs
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def simulator(self, path: str) -> Any:
        """Call the GitHub simulator's control API."""
        response = httpx.post(f"{self.base_url}/_github/_simulator{path}", timeout=30)
        response.raise_for_status()
        return response.json()


def _healthy(server: DevServer) -> bool | None:
    if server.process.poll() is not None:
        raise AssertionError(f"gharts dev exited:\n{server.logs.read_text(encoding='utf-8')}")
    try:
        return httpx.get(f"{server.base_url}/healthz", timeout=2).status_code == 200 or None
    except httpx.TransportError:
        return None


@contextmanager
def gharts_dev(cwd: Path) -> Iterator[DevServer]:
    """Start ``gharts dev`` on a free port in ``cwd``; stop it afterwards."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GHARTS_")}
    logs = cwd / "gharts-dev.log"
    with logs.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [str(GHARTS), "dev", "--port", str(port)],
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    server = DevServer(process, f"http://127.0.0.1:{port}", cwd, logs)
    try:
        eventually(lambda: _healthy(server), timeout=START_TIMEOUT, what="GET /healthz")
        yield server
    finally:
        stop(process, timeout=30)


@attrs.define(slots=False)  # Playwright marks the handlers it is given with an attribute
class OriginGuard:
    """Every request a page made that went anywhere but the server's origin."""

    origin: str
    foreign: list[str] = attrs.Factory(list)

    def __call__(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign.append(request.url)


def screenshot(page: Page, name: str) -> None:
    """Save a full-page screenshot as ``screenshots/<name>.png`` (the folder git ignores)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page: Page, base_url: str, email: str, *, path: str = "/") -> None:
    """Open ``path``, get sent to the dev issuer's page, choose ``email``, come back logged in."""
    page.goto(base_url + path)
    page.get_by_role("button", name=email, exact=False).first.wait_for(timeout=PAGE_TIMEOUT_MS)
    page.locator("form", has=page.locator(f'input[name="email"][value="{email}"]')).locator(
        "button"
    ).click()
    page.get_by_test_id("who").wait_for(timeout=PAGE_TIMEOUT_MS)


AXE_DIR = Path(__file__).parent / "axe"
SERIOUS = ("serious", "critical")


def axe_source() -> str:
    """Return axe-core's script, installing the pinned npm package first when needed."""
    pinned = json.loads((AXE_DIR / "package.json").read_text(encoding="utf-8"))["dependencies"]
    installed = AXE_DIR / "node_modules" / "axe-core" / "package.json"
    if (
        not installed.exists()
        or json.loads(installed.read_text(encoding="utf-8"))["version"] != pinned["axe-core"]
    ):
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("the accessibility tests need npm (Node.js) to install axe-core")
        done = subprocess.run(  # noqa: S603 - fixed command, resolved npm executable
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=AXE_DIR,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if done.returncode != 0:
            pytest.fail(f"npm ci failed in {AXE_DIR}:\n{done.stdout}\n{done.stderr}")
    return (AXE_DIR / "node_modules" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")


def serious_violations(page: Page, source: str) -> list[str]:
    """Run axe-core on the page; return its serious and critical violations, one line each.

    The script is evaluated through the DevTools protocol, which the page's CSP does not govern
    (the dashboard itself never allows an inline script).
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    found: list[dict[str, Any]] = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in found
        if v["impact"] in SERIOUS
    ]
