"""Issuer keys: discovery, caching, refresh, size caps, outages, and the verified-token cache."""

from __future__ import annotations

from typing import Any

import pytest

from gharts_adapters.identity import DevIssuer, IssuerConfig, JwtVerifier
from gharts_core.errors import InvalidToken
from gharts_core.testing.clock import FakeClock
from tests.contract.identity.identity_support import (
    AUDIENCE,
    IssuerNetwork,
    MakeVerifier,
    RecordingTransport,
    claims_for,
)

DISCOVERY = "/.well-known/openid-configuration"


async def test_readiness_is_false_until_the_keys_are_loaded(make_verifier: MakeVerifier) -> None:
    verifier = make_verifier()
    before = dict(verifier.readiness())

    after = await verifier.warm()

    assert (list(before.values()), list(after.values())) == ([False], [True])


async def test_an_issuer_unreachable_at_start_up_refuses_tokens_until_it_answers(
    make_verifier: MakeVerifier,
    transport: RecordingTransport,
    trusted: DevIssuer,
    clock: FakeClock,
) -> None:
    transport.down = True
    verifier = make_verifier()
    warmed = await verifier.warm()
    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(trusted.mint_machine_token("gharts-ci"))
    transport.down = False
    clock.advance(30)

    verified = await verifier.verify(trusted.mint_machine_token("gharts-ci"))

    assert ({trusted.issuer: False}, "keys_unavailable") == (warmed, refused.value.reason)
    assert ("gharts-ci", {trusted.issuer: True}) == (verified.subject, verifier.readiness())


@pytest.mark.parametrize(
    ("cache_control", "lifetime"),
    [
        (None, 300),
        ("public, max-age=600", 600),
        ("max-age=5", 60),
        ("max-age=99999999", 3600),
        ("no-store", 60),
    ],
)
async def test_keys_are_refreshed_after_their_bounded_cache_lifetime(
    *,
    make_verifier: MakeVerifier,
    network: IssuerNetwork,
    transport: RecordingTransport,
    trusted: DevIssuer,
    clock: FakeClock,
    cache_control: str | None,
    lifetime: int,
) -> None:
    network.serve_issuer(trusted, {"Cache-Control": cache_control} if cache_control else None)
    verifier = make_verifier()
    await verifier.warm()
    clock.advance(lifetime - 1)
    await verifier.verify(trusted.mint_machine_token("gharts-ci"))
    fetched_while_fresh = transport.count("/jwks")
    clock.advance(1)

    await verifier.verify(trusted.mint_machine_token("gharts-ci"))

    assert (fetched_while_fresh, transport.count("/jwks")) == (1, 2)


async def test_unknown_kids_while_the_issuer_is_up_refetch_once_per_30_s(
    verifier: JwtVerifier, transport: RecordingTransport, trusted: DevIssuer, clock: FakeClock
) -> None:
    clock.advance(30)
    for kid in ("unknown-1", "unknown-2", "unknown-3"):
        token = trusted.sign(claims_for(trusted, clock.now()), header={"kid": kid})
        with pytest.raises(InvalidToken):
            await verifier.verify(token)
        clock.advance(10)

    assert transport.count("/jwks") == 2


async def test_a_configured_jwks_uri_skips_discovery(
    make_verifier: MakeVerifier, transport: RecordingTransport, trusted: DevIssuer
) -> None:
    config = IssuerConfig(issuer=trusted.issuer, audiences=[AUDIENCE], jwks_uri=trusted.jwks_uri)
    verifier = make_verifier(config)

    await verifier.warm()

    assert (transport.count(DISCOVERY), transport.count("/jwks")) == (0, 1)


def _not_loaded_cases(trusted: DevIssuer) -> dict[str, tuple[str, Any]]:
    discovery = trusted.discovery_document()
    jwks = trusted.jwks_document()
    return {
        "discovery-names-another-issuer": (DISCOVERY, discovery | {"issuer": trusted.issuer + "/"}),
        "discovery-http-jwks-uri": (DISCOVERY, discovery | {"jwks_uri": "http://keys.example/"}),
        "discovery-without-jwks-uri": (DISCOVERY, {"issuer": trusted.issuer}),
        "discovery-too-large": (DISCOVERY, discovery | {"padding": "x" * 65 * 1024}),
        "jwks-too-large": ("/jwks", jwks | {"padding": "x" * 257 * 1024}),
        "jwks-not-an-object": ("/jwks", [jwks]),
        "jwks-without-keys": ("/jwks", {"keys": "none"}),
        "jwks-only-symmetric": ("/jwks", {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}]}),
        "jwks-only-encryption": ("/jwks", {"keys": [jwks["keys"][0] | {"use": "enc"}]}),
        "jwks-small-rsa": ("/jwks", {"keys": [jwks["keys"][0] | {"n": "AQAB"}]}),
        "jwks-broken-key": ("/jwks", {"keys": [{"kty": "EC", "crv": "P-256", "x": 1}]}),
    }


@pytest.mark.parametrize(
    "case",
    [
        "discovery-names-another-issuer",
        "discovery-http-jwks-uri",
        "discovery-without-jwks-uri",
        "discovery-too-large",
        "jwks-too-large",
        "jwks-not-an-object",
        "jwks-without-keys",
        "jwks-only-symmetric",
        "jwks-only-encryption",
        "jwks-small-rsa",
        "jwks-broken-key",
    ],
)
async def test_unusable_issuer_documents_load_no_keys(
    make_verifier: MakeVerifier, network: IssuerNetwork, trusted: DevIssuer, case: str
) -> None:
    path, document = _not_loaded_cases(trusted)[case]
    network.serve(trusted.issuer + path, lambda: document)
    verifier = make_verifier()

    assert {trusted.issuer: False} == await verifier.warm()


async def test_unusable_keys_beside_a_good_one_are_ignored(
    make_verifier: MakeVerifier, network: IssuerNetwork, trusted: DevIssuer
) -> None:
    good = trusted.jwks_document()["keys"][0]
    shadow = {"kty": "oct", "k": "c2VjcmV0", "kid": trusted.kid}
    private_leak = good | {"d": "AAAA", "p": "AAAA"}
    network.serve(trusted.jwks_uri, lambda: {"keys": [shadow, "junk", private_leak]})
    verifier = make_verifier()
    await verifier.warm()

    verified = await verifier.verify(trusted.mint_machine_token("gharts-ci"))

    assert verified.subject == "gharts-ci"


async def test_a_token_without_kid_uses_the_only_published_key(
    verifier: JwtVerifier, trusted: DevIssuer, clock: FakeClock
) -> None:
    token = trusted.sign(claims_for(trusted, clock.now()), header={"kid": None})

    assert (await verifier.verify(token)).subject == "gharts-ci"


async def test_a_token_without_kid_is_refused_when_several_keys_could_fit(
    make_verifier: MakeVerifier, trusted: DevIssuer, clock: FakeClock
) -> None:
    trusted.rotate_key()
    verifier = make_verifier()
    await verifier.warm()
    token = trusted.sign(claims_for(trusted, clock.now()), header={"kid": None})

    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(token)

    assert refused.value.reason == "unknown_kid"


async def test_a_reused_token_is_answered_from_the_verified_token_cache(
    verifier: JwtVerifier, trusted: DevIssuer
) -> None:
    token = trusted.mint_machine_token("gharts-ci")

    first = await verifier.verify(token)
    second = await verifier.verify(token)

    assert first is second


async def test_without_a_cache_every_verification_checks_the_signature(
    make_verifier: MakeVerifier, trusted: DevIssuer
) -> None:
    verifier = make_verifier(cache_size=0)
    token = trusted.mint_machine_token("gharts-ci")

    first = await verifier.verify(token)
    second = await verifier.verify(token)

    assert (first == second, first is second) == (True, False)


async def test_the_verified_token_cache_evicts_the_least_recently_used(
    make_verifier: MakeVerifier, trusted: DevIssuer
) -> None:
    verifier = make_verifier(cache_size=2)
    tokens = [trusted.mint_machine_token(f"client-{n}") for n in range(3)]
    results = [await verifier.verify(token) for token in tokens]

    again = [await verifier.verify(token) for token in (tokens[2], tokens[0])]

    assert (again[0] is results[2], again[1] is results[0]) == (True, False)


async def test_a_cached_token_is_refused_once_it_expires(
    verifier: JwtVerifier, trusted: DevIssuer, clock: FakeClock
) -> None:
    token = trusted.sign(claims_for(trusted, clock.now(), exp=int(clock.now().timestamp()) + 5))
    await verifier.verify(token)
    clock.advance(5)

    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(token)

    assert refused.value.reason == "expired"
