"""A cluster's own issuer: discovery and JWKS over TLS signed by the cluster CA, served only to a
caller with a bearer token, which the kubelet rotates in its file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from gharts_adapters.identity import IssuerConfig, JwtVerifier
from gharts_core.errors import InvalidToken
from gharts_core.ports.identity import TokenKind
from gharts_core.testing.clock import FakeClock
from tests.contract.identity.tls_issuer import (
    DISCOVERY_PATH,
    FIRST_READER_TOKEN,
    JWKS_PATH,
    TlsIssuer,
    make_certificates,
    tls_issuer,
)

ARC = ("arc-systems", "arc-controller")
ARC_SUBJECT = "system:serviceaccount:arc-systems:arc-controller"


@pytest.fixture
def cluster(tmp_path: Path, clock: FakeClock) -> Iterator[TlsIssuer]:
    with tls_issuer(tmp_path, clock=clock) as issuer:
        yield issuer


@pytest.fixture
async def shared_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
async def verifiers(
    shared_client: httpx.AsyncClient, clock: FakeClock
) -> AsyncIterator[list[JwtVerifier]]:
    """Verifiers made by a test, closed afterwards (they own their issuers' TLS clients)."""
    made: list[JwtVerifier] = []
    yield made
    for verifier in made:
        await verifier.aclose()


def verifier_for(
    config: IssuerConfig,
    verifiers: list[JwtVerifier],
    client: httpx.AsyncClient,
    clock: FakeClock,
) -> JwtVerifier:
    verifier = JwtVerifier([config], client, clock=clock)
    verifiers.append(verifier)
    return verifier


async def test_a_service_account_token_verifies_through_the_cluster_ca_and_reader_token(
    cluster: TlsIssuer,
    verifiers: list[JwtVerifier],
    shared_client: httpx.AsyncClient,
    clock: FakeClock,
) -> None:
    """Discovery and JWKS are fetched over TLS with the CA bundle, carrying the reader token."""
    verifier = verifier_for(cluster.config(), verifiers, shared_client, clock)

    verified = await verifier.verify(cluster.service_account_token(*ARC))

    assert (ARC_SUBJECT, TokenKind.MACHINE, cluster.url) == (
        verified.subject,
        verified.kind,
        verified.issuer,
    )
    bearer = f"Bearer {FIRST_READER_TOKEN}"
    assert [bearer] == cluster.authorizations(DISCOVERY_PATH)
    assert [bearer] == cluster.authorizations(JWKS_PATH)


async def test_without_the_ca_bundle_the_cluster_certificate_is_not_trusted(
    cluster: TlsIssuer,
    verifiers: list[JwtVerifier],
    shared_client: httpx.AsyncClient,
    clock: FakeClock,
) -> None:
    """The system's roots do not vouch for a cluster CA: no key is loaded, no token passes."""
    verifier = verifier_for(cluster.config(ca_bundle_path=None), verifiers, shared_client, clock)

    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(cluster.service_account_token(*ARC))

    assert "keys_unavailable" == refused.value.reason
    assert [] == cluster.requests  # the TLS handshake failed before any request


async def test_another_ca_is_not_trusted_either(
    cluster: TlsIssuer,
    verifiers: list[JwtVerifier],
    shared_client: httpx.AsyncClient,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    """The bundle replaces the roots: a certificate of some other CA does not pass."""
    stranger = make_certificates(tmp_path / "stranger", ca_name="some other CA")
    config = cluster.config(ca_bundle_path=str(stranger.ca_path))
    verifier = verifier_for(config, verifiers, shared_client, clock)

    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(cluster.service_account_token(*ARC))

    assert "keys_unavailable" == refused.value.reason


async def test_without_the_reader_token_the_api_server_refuses_its_documents(
    cluster: TlsIssuer,
    verifiers: list[JwtVerifier],
    shared_client: httpx.AsyncClient,
    clock: FakeClock,
) -> None:
    """An anonymous caller gets 401 from the discovery endpoint, so no key is loaded."""
    verifier = verifier_for(
        cluster.config(jwks_bearer_token_path=None), verifiers, shared_client, clock
    )

    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(cluster.service_account_token(*ARC))

    assert "keys_unavailable" == refused.value.reason
    assert [None] == cluster.authorizations(DISCOVERY_PATH)


async def test_the_reader_token_file_is_read_again_when_the_kubelet_rotates_it(
    cluster: TlsIssuer,
    verifiers: list[JwtVerifier],
    shared_client: httpx.AsyncClient,
    clock: FakeClock,
) -> None:
    """After a rotation the next fetch (here: for a new signing key) sends the new token."""
    verifier = verifier_for(cluster.config(), verifiers, shared_client, clock)
    await verifier.verify(cluster.service_account_token(*ARC))
    cluster.rotate_reader_token("reader-token-2")
    cluster.signer.rotate_key()
    clock.advance(timedelta(seconds=31))  # past the refetch interval for an unknown kid

    verified = await verifier.verify(cluster.service_account_token(*ARC))

    assert ARC_SUBJECT == verified.subject
    assert ["Bearer reader-token-1", "Bearer reader-token-2"] == cluster.authorizations(JWKS_PATH)


async def test_the_token_is_not_sent_to_a_jwks_uri_on_another_origin(
    cluster: TlsIssuer,
    verifiers: list[JwtVerifier],
    shared_client: httpx.AsyncClient,
    clock: FakeClock,
) -> None:
    """A discovery document cannot send gharts' credential elsewhere (here: another host name)."""
    cluster.jwks_uri = cluster.url.replace("127.0.0.1", "localhost") + JWKS_PATH
    cluster.jwks_needs_token = False
    verifier = verifier_for(cluster.config(), verifiers, shared_client, clock)

    verified = await verifier.verify(cluster.service_account_token(*ARC))

    assert ARC_SUBJECT == verified.subject
    assert [f"Bearer {FIRST_READER_TOKEN}"] == cluster.authorizations(DISCOVERY_PATH)
    assert [None] == cluster.authorizations(JWKS_PATH)


async def test_a_configured_jwks_uri_gets_the_token(
    cluster: TlsIssuer,
    verifiers: list[JwtVerifier],
    shared_client: httpx.AsyncClient,
    clock: FakeClock,
) -> None:
    """With ``jwks_uri`` set there is no discovery, and the configured URI gets the token."""
    jwks_uri = cluster.url.replace("127.0.0.1", "localhost") + JWKS_PATH
    verifier = verifier_for(cluster.config(jwks_uri=jwks_uri), verifiers, shared_client, clock)

    await verifier.verify(cluster.service_account_token(*ARC))

    assert [] == cluster.authorizations(DISCOVERY_PATH)
    assert [f"Bearer {FIRST_READER_TOKEN}"] == cluster.authorizations(JWKS_PATH)


async def test_an_unreadable_reader_token_keeps_the_keys_already_loaded(
    cluster: TlsIssuer,
    verifiers: list[JwtVerifier],
    shared_client: httpx.AsyncClient,
    clock: FakeClock,
) -> None:
    """A missing token file is a failed fetch like an outage: the last keys stay in use."""
    verifier = verifier_for(cluster.config(), verifiers, shared_client, clock)
    token = cluster.service_account_token(*ARC, lifetime=timedelta(hours=2))
    await verifier.verify(token)
    cluster.token_path.unlink()
    clock.advance(timedelta(minutes=10))  # past the JWKS lifetime: a refresh is due

    verified = await verifier.verify(cluster.service_account_token(*ARC))

    assert ARC_SUBJECT == verified.subject
    assert 1 == len(cluster.authorizations(JWKS_PATH))


@pytest.mark.parametrize(
    ("field", "content", "fragment"),
    [
        ("ca_bundle_path", None, "No such file or directory"),
        ("ca_bundle_path", "not a certificate\n", "no certificate"),
        ("jwks_bearer_token_path", None, "cannot be read: No such file or directory"),
        ("ca_bundle_path", "", "non-empty file path"),
    ],
)
def test_unusable_files_are_refused_when_the_configuration_loads(
    tmp_path: Path, field: str, content: str | None, fragment: str
) -> None:
    """A wrong path or a file that is no CA bundle is one clear line at start-up."""
    path = tmp_path / "file"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    value = "" if content == "" else str(path)

    fields: dict[str, Any] = {"issuer": "https://k8s.example:6443", "audiences": ["gharts"]}
    fields[field] = value

    with pytest.raises(ValueError, match=r"^issuer 'https://k8s\.example:6443'") as refused:
        IssuerConfig(**fields)

    assert fragment in str(refused.value)
    assert "\n" not in str(refused.value)
