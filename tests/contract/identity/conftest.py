"""Fixtures of the identity suites: a fake clock, in-memory issuers, and a real OIDC provider."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gharts_adapters.identity import DevIssuer, IssuerConfig, JwtVerifier
from gharts_core.testing.clock import FakeClock
from tests.contract.identity.identity_support import (
    ATTACKER,
    AUDIENCE,
    OTHER_TRUSTED,
    START,
    TRUSTED,
    IssuerNetwork,
    MakeVerifier,
    RecordingTransport,
)


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
