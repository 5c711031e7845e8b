"""A real OpenID provider process (panva/oidc-provider on Node.js) for tests.

Import it as ``tests.oidc_support``; the session fixture ``oidc_provider`` in
``tests/conftest.py`` starts it once per run. Without Node.js the tests
that use it skip with a message saying how to enable them, except with ``CI=true``, where they
fail.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

PROVIDER_DIR = Path(__file__).parent / "contract" / "identity" / "oidc_provider"
PROVIDER_START_TIMEOUT = 30.0


@attrs.frozen
class OidcProvider:
    """A running panva/oidc-provider process (see oidc_provider/server.mjs)."""

    issuer: str
    client_id: str = "gharts-ci"
    client_secret: str = "gharts-ci-secret"
    audience: str = "https://gharts.test"

    async def client_credentials_token(self, resource: str | None = None) -> str:
        """Return an access token (a JWT) of the ``gharts-ci`` client for ``resource``."""
        async with httpx.AsyncClient(base_url=self.issuer) as http:
            response = await http.post(
                "/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "resource": resource or self.audience,
                },
            )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token


@contextmanager
def running_provider(log_dir: Path) -> Iterator[OidcProvider]:
    """Start the provider (installing its npm packages if needed); stop it afterwards."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        message = (
            "the real OIDC provider tests need Node.js and npm: install Node.js 20 or later "
            "(npm comes with it) to enable them"
        )
        if os.environ.get("CI", "").lower() in {"true", "1"}:
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)
    _install_packages(npm)
    log_path = log_dir / "provider.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed command, resolved node executable
            [node, "server.mjs"],
            cwd=PROVIDER_DIR,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, "PORT": "0"},
        )
    assert process.stdout is not None
    try:
        ready = _read_ready_line(process, log_path)
        yield OidcProvider(issuer=ready["issuer"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def _install_packages(npm: str) -> None:
    """Run ``npm ci`` unless the pinned oidc-provider is installed already."""
    pinned = json.loads((PROVIDER_DIR / "package.json").read_text())["dependencies"]
    installed = PROVIDER_DIR / "node_modules" / "oidc-provider" / "package.json"
    if (
        installed.exists()
        and json.loads(installed.read_text())["version"] == pinned["oidc-provider"]
    ):
        return
    result = subprocess.run(  # noqa: S603 - fixed command, resolved npm executable
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=PROVIDER_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"npm ci failed in {PROVIDER_DIR}:\n{result.stdout}\n{result.stderr}")


def _read_ready_line(process: subprocess.Popen[str], log_path: Path) -> dict[str, Any]:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=PROVIDER_START_TIMEOUT):
            pytest.fail(f"the OIDC provider did not start: {log_path.read_text()}")
    line = process.stdout.readline()
    if not line:
        pytest.fail(f"the OIDC provider exited: {log_path.read_text()}")
    ready: dict[str, Any] = json.loads(line)
    return ready
