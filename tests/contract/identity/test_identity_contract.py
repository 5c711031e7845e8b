"""The TokenVerifier contract, run against the fake, the dev issuer and a real OIDC provider.

Each harness pairs a verifier with a way to obtain tokens for the client ``gharts-ci``; the real
provider runs as a Node.js process (panva/oidc-provider) issuing RFC 9068 JWT access tokens.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from gharts_adapters.identity import DevIssuer, IssuerConfig, JwtVerifier
from gharts_core.errors import InvalidToken
from gharts_core.ports.identity import TokenKind, TokenVerifier
from gharts_core.testing.clock import FakeClock
from gharts_core.testing.fake_identity import FakeTokenVerifier
from tests.contract.identity.identity_support import TRUSTED, IssuerNetwork, RecordingTransport
from tests.oidc_support import OidcProvider

LIFETIME = timedelta(minutes=10)
# The real provider stamps tokens with its own clock, a little after the fake clock started.
SKEW = timedelta(seconds=30)


class Harness:
    """A verifier under test and the issuer behind it."""

    issuer: str
    clock: FakeClock
    verifier: TokenVerifier
    transport: RecordingTransport | None = None

    async def machine_token(self) -> str:
        """Return a fresh token for the client ``gharts-ci``."""
        raise NotImplementedError

    async def rotate(self) -> None:
        """Make the issuer sign with a new key, still publishing the old one."""
        raise NotImplementedError

    async def retire(self) -> None:
        """Make the issuer stop publishing its old keys."""
        raise NotImplementedError


class FakeHarness(Harness):
    def __init__(self) -> None:
        self.issuer = TRUSTED
        self.clock = FakeClock()
        self.fake = FakeTokenVerifier(self.clock, issuers=[TRUSTED])
        self.verifier = self.fake

    async def machine_token(self) -> str:
        return self.fake.machine_token(subject="gharts-ci", issuer=TRUSTED, lifetime=LIFETIME)


class DevHarness(Harness):
    def __init__(self, issuer: DevIssuer, clock: FakeClock, client: httpx.AsyncClient) -> None:
        self.dev = issuer
        self.issuer = issuer.issuer
        self.clock = clock
        self.verifier = JwtVerifier([issuer.issuer_config()], client, clock=clock)

    async def machine_token(self) -> str:
        return self.dev.mint_machine_token("gharts-ci", lifetime=LIFETIME)

    async def rotate(self) -> None:
        self.dev.rotate_key()

    async def retire(self) -> None:
        self.dev.retire_old_keys()


class OidcHarness(Harness):
    def __init__(self, provider: OidcProvider, client: httpx.AsyncClient) -> None:
        self.provider = provider
        self.issuer = provider.issuer
        # The provider stamps tokens with the real time; the fake clock starts there.
        self.clock = FakeClock(datetime.now(UTC))
        self.control = httpx.AsyncClient(base_url=provider.issuer)
        config = IssuerConfig(
            issuer=provider.issuer, audiences=[provider.audience], algorithms=["RS256"]
        )
        self.verifier = JwtVerifier([config], client, clock=self.clock)

    async def machine_token(self) -> str:
        response = await self.control.post(
            "/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.provider.client_id,
                "client_secret": self.provider.client_secret,
                "resource": self.provider.audience,
                "scope": "runners",
            },
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    async def rotate(self) -> None:
        (await self.control.post("/_test/rotate")).raise_for_status()

    async def retire(self) -> None:
        (await self.control.post("/_test/retire")).raise_for_status()


async def _harness(
    name: str, request: pytest.FixtureRequest, trusted: DevIssuer, clock: FakeClock
) -> AsyncIterator[Harness]:
    if name == "fake":
        yield FakeHarness()
        return
    if name == "dev":
        network = IssuerNetwork()
        network.serve_issuer(trusted)
        transport = network.transport()
    else:
        transport = RecordingTransport(httpx.AsyncHTTPTransport())
    async with httpx.AsyncClient(transport=transport) as client:
        harness: Harness
        if name == "dev":
            harness = DevHarness(trusted, clock, client)
        else:
            harness = OidcHarness(request.getfixturevalue("oidc_provider"), client)
        harness.transport = transport
        try:
            yield harness
        finally:
            if isinstance(harness, OidcHarness):
                await harness.control.aclose()


OIDC = pytest.param("oidc", marks=pytest.mark.node)


@pytest.fixture(params=["fake", "dev", OIDC])
async def any_issuer(
    request: pytest.FixtureRequest, trusted: DevIssuer, clock: FakeClock
) -> AsyncIterator[Harness]:
    async for harness in _harness(request.param, request, trusted, clock):
        yield harness


@pytest.fixture(params=["dev", OIDC])
async def jwt_issuer(
    request: pytest.FixtureRequest, trusted: DevIssuer, clock: FakeClock
) -> AsyncIterator[Harness]:
    async for harness in _harness(request.param, request, trusted, clock):
        yield harness


async def _warm(harness: Harness) -> None:
    if isinstance(harness.verifier, JwtVerifier):
        await harness.verifier.warm()


async def test_a_client_credentials_token_verifies_as_the_machine_client(
    any_issuer: Harness,
) -> None:
    await _warm(any_issuer)
    token = await any_issuer.machine_token()

    verified = await any_issuer.verifier.verify(token)

    expected = (any_issuer.issuer, "gharts-ci", TokenKind.MACHINE, None)
    assert expected == (verified.issuer, verified.subject, verified.kind, verified.email)
    assert any_issuer.clock.now() < verified.expires_at <= any_issuer.clock.now() + LIFETIME + SKEW


async def test_verifying_the_same_token_twice_gives_the_same_identity(
    any_issuer: Harness,
) -> None:
    token = await any_issuer.machine_token()

    first = await any_issuer.verifier.verify(token)
    second = await any_issuer.verifier.verify(token)

    assert first == second


async def test_a_token_is_refused_once_it_has_expired(any_issuer: Harness) -> None:
    token = await any_issuer.machine_token()
    await any_issuer.verifier.verify(token)
    any_issuer.clock.advance(LIFETIME + SKEW)

    with pytest.raises(InvalidToken) as refused:
        await any_issuer.verifier.verify(token)

    assert refused.value.reason == "expired"


@pytest.mark.parametrize("garbage", ["", "not-a-token", "a.b.c", "Bearer x.y.z", "é.é.é"])
async def test_garbage_is_refused_as_an_invalid_token(any_issuer: Harness, garbage: str) -> None:
    with pytest.raises(InvalidToken):
        await any_issuer.verifier.verify(garbage)


async def test_a_tampered_token_is_refused(any_issuer: Harness) -> None:
    token = await any_issuer.machine_token()
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]

    with pytest.raises(InvalidToken):
        await any_issuer.verifier.verify(tampered)


async def test_readiness_reports_the_issuer_once_its_keys_are_loaded(any_issuer: Harness) -> None:
    await _warm(any_issuer)

    assert {any_issuer.issuer: True} == any_issuer.verifier.readiness()


async def test_a_new_signing_key_is_picked_up_on_its_unknown_kid(jwt_issuer: Harness) -> None:
    await _warm(jwt_issuer)
    old_key_tokens = [await jwt_issuer.machine_token() for _ in range(2)]
    await jwt_issuer.verifier.verify(old_key_tokens[0])
    await jwt_issuer.rotate()
    new_key_token = await jwt_issuer.machine_token()
    jwt_issuer.clock.advance(31)  # past the refetch rate limit of the warm-up fetch

    verified = await jwt_issuer.verifier.verify(new_key_token)
    still_published = await jwt_issuer.verifier.verify(old_key_tokens[1])

    assert (verified.subject, still_published.subject) == ("gharts-ci", "gharts-ci")


async def test_tokens_of_a_retired_key_are_refused_after_the_next_refresh(
    jwt_issuer: Harness,
) -> None:
    await _warm(jwt_issuer)
    cached, uncached = [await jwt_issuer.machine_token() for _ in range(2)]
    await jwt_issuer.verifier.verify(cached)
    await jwt_issuer.rotate()
    await jwt_issuer.retire()
    jwt_issuer.clock.advance(301)  # past the JWKS lifetime: the next verification refreshes

    for token in (uncached, cached):
        with pytest.raises(InvalidToken) as refused:
            await jwt_issuer.verifier.verify(token)
        assert refused.value.reason == "unknown_kid"


async def test_concurrent_tokens_with_a_new_kid_cause_one_jwks_fetch(jwt_issuer: Harness) -> None:
    await _warm(jwt_issuer)
    await jwt_issuer.rotate()
    tokens = [await jwt_issuer.machine_token() for _ in range(5)]
    jwt_issuer.clock.advance(31)
    assert jwt_issuer.transport is not None
    before = jwt_issuer.transport.count("jwks")

    results = await asyncio.gather(*(jwt_issuer.verifier.verify(t) for t in tokens))

    assert (len(results), jwt_issuer.transport.count("jwks") - before) == (5, 1)


async def test_keys_stay_in_use_while_the_issuer_is_unreachable(jwt_issuer: Harness) -> None:
    await _warm(jwt_issuer)
    tokens = [await jwt_issuer.machine_token() for _ in range(2)]
    assert jwt_issuer.transport is not None
    jwt_issuer.transport.down = True

    first = await jwt_issuer.verifier.verify(tokens[0])
    jwt_issuer.clock.advance(301)  # the JWKS is stale: a refresh is tried, and fails
    second = await jwt_issuer.verifier.verify(tokens[1])

    assert (first.subject, second.subject) == ("gharts-ci", "gharts-ci")
    assert {jwt_issuer.issuer: True} == jwt_issuer.verifier.readiness()


async def test_an_unknown_kid_during_an_outage_is_refused_and_refetched_once_per_30_s(
    jwt_issuer: Harness,
) -> None:
    await _warm(jwt_issuer)
    await jwt_issuer.rotate()
    tokens = [await jwt_issuer.machine_token() for _ in range(4)]
    assert jwt_issuer.transport is not None
    jwt_issuer.transport.down = True
    jwt_issuer.clock.advance(31)
    before = len(jwt_issuer.transport.requests)

    reasons = []
    for token in tokens[:3]:
        with pytest.raises(InvalidToken) as refused:
            await jwt_issuer.verifier.verify(token)
        reasons.append(refused.value.reason)
        jwt_issuer.clock.advance(5)
    within_window = len(jwt_issuer.transport.requests) - before
    jwt_issuer.clock.advance(30)
    with pytest.raises(InvalidToken):
        await jwt_issuer.verifier.verify(tokens[3])

    assert reasons == ["unknown_kid"] * 3
    assert (within_window, len(jwt_issuer.transport.requests) - before) == (1, 2)


@pytest.mark.node
async def test_a_provider_token_for_another_resource_is_refused(
    oidc_provider: OidcProvider,
) -> None:
    async with httpx.AsyncClient(base_url=oidc_provider.issuer) as http:
        response = await http.post(
            "/token",
            data={
                "grant_type": "client_credentials",
                "client_id": oidc_provider.client_id,
                "client_secret": oidc_provider.client_secret,
                "resource": "https://elsewhere.test",
            },
        )
        token = response.json()["access_token"]
        config = IssuerConfig(issuer=oidc_provider.issuer, audiences=[oidc_provider.audience])
        verifier = JwtVerifier([config], http, clock=FakeClock(datetime.now(UTC)))

        with pytest.raises(InvalidToken) as refused:
            await verifier.verify(token)

    assert refused.value.reason == "wrong_audience"
