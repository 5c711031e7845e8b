"""The JWT attack catalogue of RFC 8725, claim attacks, and fuzzing: only InvalidToken, ever."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gharts_adapters.identity import DevIssuer, IssuerConfig, JwtVerifier
from gharts_core.errors import InvalidToken
from gharts_core.testing.clock import FakeClock
from tests.contract.identity.identity_support import (
    AUDIENCE,
    TRUSTED,
    IssuerNetwork,
    MakeVerifier,
    RecordingTransport,
    b64,
    b64json,
    claims_for,
    refusal,
)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": -1}, "expired"),
        ({"exp": 0}, "expired"),
        ({"exp": None}, "missing_claim"),
        ({"exp": "tomorrow"}, "malformed"),
        ({"exp": 10**400}, "malformed"),
        ({"nbf": 61}, "not_yet_valid"),
        ({"iat": 3600 * 24 * 365}, "issued_in_future"),
        ({"sub": None}, "missing_claim"),
    ],
    ids=["expired", "expires-now", "no-exp", "exp-text", "exp-huge", "nbf", "iat", "no-sub"],
)
async def test_lifetime_claims_are_enforced(
    verifier: JwtVerifier,
    trusted: DevIssuer,
    clock: FakeClock,
    overrides: dict[str, Any],
    reason: str,
) -> None:
    now = int(clock.now().timestamp())
    relative = {
        name: now + value if isinstance(value, int) and abs(value) < 10**12 else value
        for name, value in overrides.items()
    }
    token = trusted.sign(claims_for(trusted, clock.now(), **relative))

    assert reason == await refusal(verifier, token)


@pytest.mark.parametrize(
    "aud",
    ["someone-else", ["someone-else", "another"], [], None, 42, [42], "GHARTS", "gharts "],
    ids=[
        "other",
        "list-without-ours",
        "empty-list",
        "missing",
        "number",
        "list-number",
        "case",
        "space",
    ],
)
async def test_a_token_for_another_audience_is_refused(
    verifier: JwtVerifier, trusted: DevIssuer, clock: FakeClock, aud: object
) -> None:
    claims = claims_for(trusted, clock.now(), aud=aud)

    assert await refusal(verifier, trusted.sign(claims)) == "wrong_audience"


async def test_an_audience_list_containing_ours_is_accepted(
    verifier: JwtVerifier, trusted: DevIssuer, clock: FakeClock
) -> None:
    claims = claims_for(trusted, clock.now(), aud=["someone-else", AUDIENCE])

    verified = await verifier.verify(trusted.sign(claims))

    assert verified.subject == "gharts-ci"


@pytest.mark.parametrize(
    "iss",
    [TRUSTED + "/", TRUSTED.upper(), TRUSTED.replace("oidc", "OIDC"), " " + TRUSTED, None, 1],
    ids=["trailing-slash", "upper-case", "path-case", "leading-space", "missing", "number"],
)
async def test_an_issuer_differing_in_any_byte_is_untrusted(
    verifier: JwtVerifier,
    trusted: DevIssuer,
    clock: FakeClock,
    transport: RecordingTransport,
    iss: object,
) -> None:
    fetched_before = len(transport.requests)
    token = trusted.sign(claims_for(trusted, clock.now(), iss=iss))

    assert await refusal(verifier, token) == "untrusted_issuer"
    assert fetched_before == len(transport.requests)


async def test_an_untrusted_issuer_serving_its_own_keys_is_never_contacted(
    verifier: JwtVerifier, attacker: DevIssuer, clock: FakeClock, transport: RecordingTransport
) -> None:
    token = attacker.sign(claims_for(attacker, clock.now()))

    assert await refusal(verifier, token) == "untrusted_issuer"
    assert transport.count("attacker") == 0


@pytest.mark.parametrize("kid_source", ["attacker", "trusted"])
async def test_a_trusted_iss_signed_with_the_attackers_key_is_refused(
    verifier: JwtVerifier,
    trusted: DevIssuer,
    attacker: DevIssuer,
    clock: FakeClock,
    kid_source: str,
) -> None:
    header = {"kid": trusted.kid} if kid_source == "trusted" else None
    token = attacker.sign(claims_for(trusted, clock.now()), header=header)

    expected = "bad_signature" if kid_source == "trusted" else "unknown_kid"
    assert expected == await refusal(verifier, token)


async def test_a_signature_by_another_trusted_issuers_key_with_the_same_kid_is_refused(
    make_verifier: MakeVerifier,
    network: IssuerNetwork,
    trusted: DevIssuer,
    other: DevIssuer,
    clock: FakeClock,
) -> None:
    # The other issuer publishes its own key under the trusted issuer's kid.
    discovery = other.issuer.rstrip("/") + "/.well-known/openid-configuration"
    network.serve(discovery, other.discovery_document)
    network.serve(
        other.jwks_uri,
        lambda: {"keys": [other.jwks_document()["keys"][0] | {"kid": trusted.kid}]},
    )
    verifier = make_verifier(trusted.issuer_config(), other.issuer_config())
    await verifier.warm()
    token = other.sign(claims_for(trusted, clock.now()), header={"kid": trusted.kid})
    own_token = other.sign(claims_for(other, clock.now()), header={"kid": trusted.kid})

    assert await refusal(verifier, token) == "bad_signature"
    assert other.issuer == (await verifier.verify(own_token)).issuer


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
HEADER_MEMBERS = st.sampled_from(["alg", "kid", "typ", "crit", "jku"])
CLAIMS = st.sampled_from(["iss", "sub", "aud", "exp", "nbf", "iat"])
COMPACT_LOOKING = st.from_regex(r"[A-Za-z0-9_-]{0,40}(\.[A-Za-z0-9_-]{0,40}){2}", fullmatch=True)


def _refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request may be made, not even to {request.url}")


def _reason_for(token: str) -> str:
    async def verify() -> str:
        async with httpx.AsyncClient(transport=httpx.MockTransport(_refuse)) as client:
            config = IssuerConfig(issuer=TRUSTED, audiences=[AUDIENCE])
            with pytest.raises(InvalidToken) as refused:
                await JwtVerifier([config], client).verify(token)
            return refused.value.reason

    return asyncio.run(verify())


@given(token=st.text(max_size=300) | COMPACT_LOOKING)
def test_arbitrary_input_only_ever_raises_invalid_token(token: str) -> None:
    assert _reason_for(token)


@given(
    header=st.dictionaries(HEADER_MEMBERS, JSON_VALUES),
    claims=st.dictionaries(CLAIMS, JSON_VALUES),
)
def test_arbitrary_json_headers_and_claims_only_ever_raise_invalid_token(
    header: dict[str, Any], claims: dict[str, Any]
) -> None:
    assert _reason_for(f"{b64json(header)}.{b64json(claims)}.{b64(b'signature')}")
