"""Issuer configuration is validated when it is loaded, with one clear line per problem."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gharts_adapters.identity import ASYMMETRIC_ALGORITHMS, IssuerConfig, IssuerKind, JwtVerifier

HTTPS = "https://id.example.com/"


def problem(**fields: Any) -> str:
    """Return the message a bad configuration is refused with."""
    options = {"issuer": HTTPS, "audiences": ["gharts"]} | fields
    with pytest.raises((ValueError, TypeError)) as refused:
        IssuerConfig(**options)
    return str(refused.value)


def test_defaults_follow_the_specification() -> None:
    config = IssuerConfig(issuer=HTTPS, audiences="gharts")

    expected = (("gharts",), None, ("RS256", "ES256"), IssuerKind.AUTO, "email", 60.0, False)
    actual = (
        config.audiences,
        config.jwks_uri,
        config.algorithms,
        config.kind,
        config.user_claim,
        config.leeway,
        config.trust_email,
    )
    assert expected == actual


@pytest.mark.parametrize(
    "issuer",
    [
        "http://127.0.0.1:8000/dev/oidc",
        "http://localhost:9000",
        "http://[::1]:8080/",
        "http://127.0.0.2/",
        "https://kubernetes.default.svc",
    ],
)
def test_https_and_loopback_http_issuers_are_accepted(issuer: str) -> None:
    assert issuer == IssuerConfig(issuer=issuer, audiences=["gharts"]).issuer


@pytest.mark.parametrize(
    ("issuer", "fragment"),
    [
        ("http://id.example.com/", "must use https"),
        ("http://localhost.example.com/", "must use https"),
        ("http://10.0.0.1/", "must use https"),
        ("ftp://id.example.com/", "must be an https URL"),
        ("id.example.com", "has no host"),
        ("https:///path", "has no host"),
        ("https://id.example.com/?tenant=1", "must not carry a query"),
        ("https://id.example.com/#x", "must not carry a query"),
        ("", "non-empty URL"),
        (" https://id.example.com/", "white space"),
    ],
)
def test_other_issuer_urls_are_refused_with_a_clear_line(issuer: str, fragment: str) -> None:
    message = problem(issuer=issuer)

    assert fragment in message
    assert "\n" not in message


def test_a_plain_http_jwks_uri_is_refused() -> None:
    message = problem(jwks_uri="http://keys.example.com/jwks")

    assert "jwks_uri of issuer 'https://id.example.com/'" in message


@pytest.mark.parametrize("algorithm", ["none", "HS256", "HS384", "HS512", "RSA1_5", "rs256"])
def test_symmetric_and_unknown_algorithms_are_refused(algorithm: str) -> None:
    message = problem(algorithms=["RS256", algorithm])

    assert f"{algorithm!r} refused; only asymmetric algorithms are allowed" in message


def test_every_asymmetric_algorithm_is_accepted() -> None:
    config = IssuerConfig(issuer=HTTPS, audiences=["a"], algorithms=sorted(ASYMMETRIC_ALGORITHMS))

    assert set(config.algorithms) == ASYMMETRIC_ALGORITHMS


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"audiences": []}, "needs at least one audience"),
        ({"audiences": [""]}, "needs at least one audience"),
        ({"algorithms": []}, "needs at least one algorithm"),
        ({"kind": "robot"}, "kind must be one of user, machine, auto, not 'robot'"),
        ({"user_claim": ""}, "user_claim must be a non-empty claim name"),
        ({"leeway": -1}, "leeway must be between 0 and 600 seconds"),
        ({"leeway": 3600}, "leeway must be between 0 and 600 seconds"),
        ({"leeway": True}, "leeway must be between 0 and 600 seconds"),
    ],
)
def test_bad_fields_are_refused_naming_the_issuer(fields: dict[str, Any], fragment: str) -> None:
    assert fragment in problem(**fields)


async def test_an_issuer_cannot_be_configured_twice() -> None:
    config = IssuerConfig(issuer=HTTPS, audiences=["gharts"])
    async with httpx.AsyncClient() as client:
        with pytest.raises(ValueError, match="configured twice"):
            JwtVerifier([config, config], client)
