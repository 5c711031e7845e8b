"""RFC 8725 attacks on the header, the key and the signature: each refused for its reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from gharts_adapters.identity import DevIssuer, IssuerConfig, JwtVerifier
from gharts_core.testing.clock import FakeClock
from tests.contract.identity.identity_support import (
    ATTACKER,
    AUDIENCE,
    TRUSTED,
    MakeVerifier,
    RecordingTransport,
    b64,
    b64json,
    claims_for,
    hs256,
    refusal,
)


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_alg_none_is_refused(
    verifier: JwtVerifier, trusted: DevIssuer, clock: FakeClock, alg: str
) -> None:
    token = f"{b64json({'alg': alg, 'typ': 'JWT'})}.{b64json(claims_for(trusted, clock.now()))}."

    assert await refusal(verifier, token) == "algorithm_not_allowed"


@pytest.mark.parametrize("secret_form", ["pem", "jwk-json", "modulus"])
async def test_hs256_keyed_with_the_issuers_public_key_is_refused(
    verifier: JwtVerifier, trusted: DevIssuer, clock: FakeClock, secret_form: str
) -> None:
    public = trusted.jwks_document()["keys"][0]
    secrets = {
        "pem": _public_pem(public),
        "jwk-json": str(public).encode(),
        "modulus": public["n"].encode(),
    }
    header = {"alg": "HS256", "typ": "JWT", "kid": trusted.kid}
    token = hs256(header, claims_for(trusted, clock.now()), secrets[secret_form])

    assert await refusal(verifier, token) == "algorithm_not_allowed"


async def test_an_algorithm_the_issuer_is_not_configured_for_is_refused(
    make_verifier: MakeVerifier, trusted: DevIssuer, clock: FakeClock
) -> None:
    config = IssuerConfig(issuer=trusted.issuer, audiences=[AUDIENCE], algorithms=["ES256"])
    verifier = make_verifier(config)
    token = trusted.sign(claims_for(trusted, clock.now()))

    assert await refusal(verifier, token) == "algorithm_not_allowed"


async def test_a_key_is_never_used_with_another_algorithm_than_its_own(
    make_verifier: MakeVerifier, trusted: DevIssuer, clock: FakeClock
) -> None:
    config = IssuerConfig(issuer=trusted.issuer, audiences=[AUDIENCE], algorithms=["PS256"])
    verifier = make_verifier(config)
    token = trusted.sign(claims_for(trusted, clock.now()), header={"alg": "PS256"})

    assert await refusal(verifier, token) == "unknown_kid"


async def test_an_unknown_kid_is_refused(
    verifier: JwtVerifier, trusted: DevIssuer, clock: FakeClock
) -> None:
    token = trusted.sign(claims_for(trusted, clock.now()), header={"kid": "no-such-key"})

    assert await refusal(verifier, token) == "unknown_kid"


@pytest.mark.parametrize(
    "kid",
    [
        "../../../../../../dev/null",
        "/etc/passwd",
        "' OR '1'='1",
        "x'; DROP TABLE keys; --",
        "key\u0000",
        "https://attacker.example.net/key.json",
        "",
    ],
)
async def test_injection_strings_in_kid_are_just_unknown_kids(
    verifier: JwtVerifier,
    trusted: DevIssuer,
    clock: FakeClock,
    transport: RecordingTransport,
    kid: str,
) -> None:
    token = trusted.sign(claims_for(trusted, clock.now()), header={"kid": kid})

    assert await refusal(verifier, token) == "unknown_kid"
    assert {"127.0.0.1"} == transport.hosts()


@pytest.mark.parametrize("member", ["jku", "x5u"])
async def test_key_urls_in_the_header_are_never_fetched(
    *,
    verifier: JwtVerifier,
    trusted: DevIssuer,
    attacker: DevIssuer,
    clock: FakeClock,
    transport: RecordingTransport,
    member: str,
) -> None:
    header = {member: attacker.jwks_uri}
    token = attacker.sign(claims_for(trusted, clock.now()), header=header)

    assert await refusal(verifier, token) == "unknown_kid"
    assert transport.count(ATTACKER.removesuffix("/")) == 0


@pytest.mark.parametrize("kid_source", ["attacker", "trusted"])
async def test_a_key_embedded_as_jwk_is_never_used(
    verifier: JwtVerifier,
    trusted: DevIssuer,
    attacker: DevIssuer,
    clock: FakeClock,
    kid_source: str,
) -> None:
    kid = attacker.kid if kid_source == "attacker" else trusted.kid
    embedded = attacker.jwks_document()["keys"][0] | {"kid": kid}
    token = attacker.sign(claims_for(trusted, clock.now()), header={"jwk": embedded, "kid": kid})

    expected = "unknown_kid" if kid_source == "attacker" else "bad_signature"
    assert expected == await refusal(verifier, token)


async def test_a_certificate_embedded_as_x5c_is_never_used(
    verifier: JwtVerifier, trusted: DevIssuer, clock: FakeClock
) -> None:
    forger = _SelfSignedSigner()
    header = {"alg": "RS256", "typ": "JWT", "kid": trusted.kid, "x5c": [forger.certificate]}

    token = forger.sign(header, claims_for(trusted, clock.now()))

    assert await refusal(verifier, token) == "bad_signature"


@pytest.mark.parametrize("form", ["empty-signature", "two-segments", "signature-of-zeros"])
async def test_a_stripped_signature_is_refused(
    verifier: JwtVerifier, trusted: DevIssuer, clock: FakeClock, form: str
) -> None:
    head, payload, _signature = trusted.sign(claims_for(trusted, clock.now())).split(".")
    tokens = {
        "empty-signature": f"{head}.{payload}.",
        "two-segments": f"{head}.{payload}",
        "signature-of-zeros": f"{head}.{payload}.{b64(bytes(256))}",
    }
    expected = "malformed" if form == "two-segments" else "bad_signature"

    assert expected == await refusal(verifier, tokens[form])


@pytest.mark.parametrize("crit", [["exp-x"], ["b64"], [], "exp-x"])
async def test_critical_header_extensions_are_refused(
    verifier: JwtVerifier, trusted: DevIssuer, clock: FakeClock, crit: object
) -> None:
    header = {"crit": crit, "exp-x": 1, "b64": False}
    token = trusted.sign(claims_for(trusted, clock.now()), header=header)

    assert await refusal(verifier, token) == "unsupported_crit"


async def test_a_one_megabyte_token_is_refused_without_parsing(verifier: JwtVerifier) -> None:
    token = "eyJhbGciOiJSUzI1NiJ9." + "A" * 1024 * 1024 + ".sig"

    assert await refusal(verifier, token) == "too_large"


@pytest.mark.parametrize(
    "header_segment",
    [
        b64(b"not json"),
        b64(b"[1, 2]"),
        b64(b'"RS256"'),
        b64(b'{"alg": "RS256", "alg": "none"}'),
        b64(b'{"alg": NaN}'),
        b64(b'{"typ": "JWT"}'),
        b64(b'{"alg": "RS256", "kid": 7}'),
        b64(b"\xff\xfe"),
        "a",
    ],
    ids=[
        "text",
        "array",
        "string",
        "duplicate-alg",
        "nan",
        "no-alg",
        "kid-number",
        "bytes",
        "bad-b64",
    ],
)
async def test_a_header_that_is_not_a_json_object_is_malformed(
    verifier: JwtVerifier, trusted: DevIssuer, clock: FakeClock, header_segment: str
) -> None:
    token = f"{header_segment}.{b64json(claims_for(trusted, clock.now()))}.{b64(b'sig')}"

    assert await refusal(verifier, token) == "malformed"


@pytest.mark.parametrize("typ", ["JWS", "JOSE", "secevent+jwt", "application/json", "", 1])
async def test_a_type_other_than_jwt_is_refused(
    verifier: JwtVerifier, trusted: DevIssuer, clock: FakeClock, typ: object
) -> None:
    token = trusted.sign(claims_for(trusted, clock.now()), header={"typ": typ})

    assert await refusal(verifier, token) == "wrong_type"


@pytest.mark.parametrize("typ", ["JWT", "jwt", "at+jwt", "AT+JWT", "application/at+jwt", None])
async def test_jwt_and_access_token_types_are_accepted(
    verifier: JwtVerifier, trusted: DevIssuer, clock: FakeClock, typ: str | None
) -> None:
    token = trusted.sign(claims_for(trusted, clock.now()), header={"typ": typ})

    assert (await verifier.verify(token)).subject == "gharts-ci"


def _public_pem(jwk: dict[str, Any]) -> bytes:
    from joserfc.jwk import RSAKey

    return RSAKey.import_key(jwk).as_pem(private=False)


class _SelfSignedSigner:
    """An attacker's RSA key with a self-signed certificate for it."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TRUSTED)])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1))
            .sign(self.key, hashes.SHA256())
        )
        self.certificate = b64(cert.public_bytes(serialization.Encoding.DER))

    def sign(self, header: dict[str, Any], claims: dict[str, Any]) -> str:
        from cryptography.hazmat.primitives.asymmetric import padding

        signing_input = f"{b64json(header)}.{b64json(claims)}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64(signature)}"
