"""Fixtures of the identity suites: a fake clock, in-memory issuers, and a real OIDC provider."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from identity_support import (
    ATTACKER,
    AUDIENCE,
    OTHER_TRUSTED,
    START,
    TRUSTED,
    IssuerNetwork,
    MakeVerifier,
    OidcProvider,
    RecordingTransport,
)

from gharts_adapters.identity import DevIssuer, IssuerConfig, JwtVerifier
from gharts_core.testing.clock import FakeClock

PROVIDER_DIR = Path(__file__).parent / "oidc_provider"
PROVIDER_START_TIMEOUT = 30.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(scope="session")
def dev_key_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generate each dev issuer's RSA key once per session (key generation is slow)."""
    dirs = {}
    for name, url in {"trusted": TRUSTED, "other": OTHER_TRUSTED, "attacker": ATTACKER}.items():
        dirs[name] = tmp_path_factory.mktemp(f"keys-{name}")
        DevIssuer(url, key_dir=dirs[name])
    return dirs


def _issuer(
    name: str, url: str, dev_key_dirs: dict[str, Path], tmp_path: Path, clock: FakeClock
) -> DevIssuer:
    key_dir = tmp_path / name
    shutil.copytree(dev_key_dirs[name], key_dir)
    return DevIssuer(url, key_dir=key_dir, audience=AUDIENCE, clock=clock)


@pytest.fixture
def trusted(dev_key_dirs: dict[str, Path], tmp_path: Path, clock: FakeClock) -> DevIssuer:
    return _issuer("trusted", TRUSTED, dev_key_dirs, tmp_path, clock)


@pytest.fixture
def other(dev_key_dirs: dict[str, Path], tmp_path: Path, clock: FakeClock) -> DevIssuer:
    return _issuer("other", OTHER_TRUSTED, dev_key_dirs, tmp_path, clock)


@pytest.fixture
def attacker(dev_key_dirs: dict[str, Path], tmp_path: Path, clock: FakeClock) -> DevIssuer:
    return _issuer("attacker", ATTACKER, dev_key_dirs, tmp_path, clock)


@pytest.fixture
def network(trusted: DevIssuer, attacker: DevIssuer) -> IssuerNetwork:
    """The trusted issuer and the attacker's issuer, both reachable."""
    web = IssuerNetwork()
    web.serve_issuer(trusted)
    web.serve_issuer(attacker)
    return web


@pytest.fixture
def transport(network: IssuerNetwork) -> RecordingTransport:
    return network.transport()


@pytest.fixture
async def client(transport: RecordingTransport) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=transport) as http:
        yield http


@pytest.fixture
def make_verifier(client: httpx.AsyncClient, clock: FakeClock, trusted: DevIssuer) -> MakeVerifier:
    """Build a verifier; with no configuration it trusts the ``trusted`` dev issuer only."""

    def build(*configs: IssuerConfig, **options: Any) -> JwtVerifier:
        return JwtVerifier(configs or [trusted.issuer_config()], client, clock=clock, **options)

    return build


@pytest.fixture
async def verifier(make_verifier: MakeVerifier) -> JwtVerifier:
    """A verifier trusting the ``trusted`` dev issuer, its keys loaded."""
    built = make_verifier()
    await built.warm()
    return built


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """Start the real OIDC provider once per session, installing its npm packages if needed."""
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
    log_path = tmp_path_factory.mktemp("oidc-provider") / "provider.log"
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
