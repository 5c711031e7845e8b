"""Who a token names: user or machine, the user's email and whether it is verified, leeway."""

from __future__ import annotations

from typing import Any

import pytest

from gharts_adapters.identity import DevIssuer, IssuerConfig, IssuerKind
from gharts_core.errors import InvalidToken
from gharts_core.ports.identity import TokenKind, VerifiedToken
from gharts_core.testing.clock import FakeClock
from tests.contract.identity.identity_support import AUDIENCE, MakeVerifier, claims_for


async def verify(
    make_verifier: MakeVerifier,
    issuer: DevIssuer,
    clock: FakeClock,
    claims: dict[str, Any],
    **config: Any,
) -> VerifiedToken:
    """Verify a token with ``claims`` (over valid defaults) against a configured issuer."""
    options = {"issuer": issuer.issuer, "audiences": [AUDIENCE]} | config
    verifier = make_verifier(IssuerConfig(**options))
    base = claims_for(issuer, clock.now(), client_id=None)
    return await verifier.verify(issuer.sign(base | claims))


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"gty": "client-credentials", "sub": "abc@clients"}, TokenKind.MACHINE),
        ({"client_id": "gharts-ci"}, TokenKind.MACHINE),
        ({"azp": "gharts-ci"}, TokenKind.MACHINE),
        ({"client_id": "spa-app", "email": "a@example.com"}, TokenKind.USER),
        ({"azp": "spa-app", "email": "a@example.com"}, TokenKind.USER),
        ({"gty": "password", "email": "a@example.com"}, TokenKind.USER),
        ({}, TokenKind.USER),
    ],
    ids=[
        "gty",
        "client-id-is-sub",
        "azp-is-sub",
        "client-id-differs",
        "azp-differs",
        "gty-other",
        "none",
    ],
)
async def test_auto_kind_classifies_by_gty_and_client_id(
    make_verifier: MakeVerifier,
    trusted: DevIssuer,
    clock: FakeClock,
    claims: dict[str, Any],
    expected: TokenKind,
) -> None:
    verified = await verify(make_verifier, trusted, clock, claims, kind="auto")

    assert expected == verified.kind


@pytest.mark.parametrize(
    ("kind", "claims", "expected"),
    [
        (IssuerKind.USER, {"gty": "client-credentials", "client_id": "gharts-ci"}, TokenKind.USER),
        (IssuerKind.MACHINE, {"email": "a@example.com"}, TokenKind.MACHINE),
    ],
)
async def test_a_fixed_kind_overrides_the_claims(
    *,
    make_verifier: MakeVerifier,
    trusted: DevIssuer,
    clock: FakeClock,
    kind: IssuerKind,
    claims: dict[str, Any],
    expected: TokenKind,
) -> None:
    verified = await verify(make_verifier, trusted, clock, claims, kind=kind)

    assert expected == verified.kind


async def test_a_machine_token_carries_no_email_even_when_the_claim_is_there(
    make_verifier: MakeVerifier, trusted: DevIssuer, clock: FakeClock
) -> None:
    claims = {"email": "ci@example.com", "email_verified": True}

    verified = await verify(make_verifier, trusted, clock, claims, kind="machine")

    assert (verified.email, verified.email_verified) == (None, False)


@pytest.mark.parametrize(
    ("email_verified", "trust_email", "expected"),
    [
        (True, False, True),
        ("true", False, True),
        ("TRUE", False, True),
        (False, False, False),
        ("false", False, False),
        ("yes", False, False),
        (None, False, False),
        (False, True, True),
        (None, True, True),
    ],
)
async def test_email_is_verified_when_the_token_says_so_or_the_issuer_vouches(
    *,
    make_verifier: MakeVerifier,
    trusted: DevIssuer,
    clock: FakeClock,
    email_verified: object,
    trust_email: bool,
    expected: bool,
) -> None:
    claims = {"email": "Alice@Example.COM", "email_verified": email_verified}

    verified = await verify(make_verifier, trusted, clock, claims, trust_email=trust_email)

    assert ("alice@example.com", expected) == (verified.email, verified.email_verified)


async def test_a_user_token_without_the_user_claim_has_no_verified_email(
    make_verifier: MakeVerifier, trusted: DevIssuer, clock: FakeClock
) -> None:
    verified = await verify(make_verifier, trusted, clock, {}, trust_email=True)

    assert (verified.kind, verified.email, verified.email_verified) == (TokenKind.USER, None, False)


async def test_the_user_claim_is_configurable(
    make_verifier: MakeVerifier, trusted: DevIssuer, clock: FakeClock
) -> None:
    claims = {"email": "ignored@example.com", "upn": "Bob@Corp.Example"}

    verified = await verify(make_verifier, trusted, clock, claims, user_claim="upn")

    assert verified.email == "bob@corp.example"


async def test_the_name_and_raw_claims_are_kept(
    make_verifier: MakeVerifier, trusted: DevIssuer, clock: FakeClock
) -> None:
    claims = {"name": "Alice Liddell", "groups": ["platform"]}

    verified = await verify(make_verifier, trusted, clock, claims)

    assert (verified.name, verified.claims["groups"]) == ("Alice Liddell", ["platform"])


async def test_the_dev_issuers_user_token_is_a_verified_user(
    make_verifier: MakeVerifier, trusted: DevIssuer
) -> None:
    verifier = make_verifier()

    verified = await verifier.verify(trusted.mint_user_token("Alice@Example.com", name="Alice"))

    expected = (TokenKind.USER, "dev|alice@example.com", "alice@example.com", True, "Alice")
    actual = (
        verified.kind,
        verified.subject,
        verified.email,
        verified.email_verified,
        verified.name,
    )
    assert expected == actual


@pytest.mark.parametrize(
    ("leeway", "claim", "offset", "accepted"),
    [
        (60, "nbf", 60, True),
        (60, "nbf", 61, False),
        (60, "iat", 59, True),
        (60, "iat", 61, False),
        (0, "nbf", 1, False),
        (0, "iat", 0, True),
        (300, "nbf", 299, True),
    ],
)
async def test_nbf_and_iat_may_be_in_the_future_by_the_leeway_only(
    *,
    make_verifier: MakeVerifier,
    trusted: DevIssuer,
    clock: FakeClock,
    leeway: int,
    claim: str,
    offset: int,
    accepted: bool,
) -> None:
    claims = {claim: int(clock.now().timestamp()) + offset}

    try:
        await verify(make_verifier, trusted, clock, claims, leeway=leeway)
    except InvalidToken:
        outcome = False
    else:
        outcome = True

    assert accepted == outcome


async def test_expiry_gets_no_leeway(
    make_verifier: MakeVerifier, trusted: DevIssuer, clock: FakeClock
) -> None:
    claims = {"exp": int(clock.now().timestamp()) - 1}

    with pytest.raises(InvalidToken) as refused:
        await verify(make_verifier, trusted, clock, claims, leeway=600)

    assert refused.value.reason == "expired"


async def test_a_token_expires_at_its_exp_second(
    make_verifier: MakeVerifier, trusted: DevIssuer, clock: FakeClock
) -> None:
    exp = int(clock.now().timestamp()) + 10
    verifier = make_verifier()
    token = trusted.sign(claims_for(trusted, clock.now(), exp=exp))
    accepted = await verifier.verify(token)
    clock.advance(10)

    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(token)

    assert exp == int(accepted.expires_at.timestamp())
    assert refused.value.reason == "expired"
