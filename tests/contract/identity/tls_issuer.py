"""A Kubernetes-like token issuer on loopback HTTPS: a throwaway CA, discovery and JWKS for callers
holding the right bearer token only, and service-account tokens signed with its key.

Import it as ``tests.contract.identity.tls_issuer``::

    with tls_issuer(tmp_path) as issuer:
        config = issuer.config()            # ca_bundle_path and jwks_bearer_token_path set
        token = issuer.service_account_token("arc-systems", "arc-controller")
"""

from __future__ import annotations

import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gharts_adapters.identity import DevIssuer, IssuerConfig, IssuerKind
from gharts_core.ports.clock import Clock, SystemClock

AUDIENCE = "gharts"
DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/openid/v1/jwks"
FIRST_READER_TOKEN = "reader-token-1"


@attrs.frozen
class Certificates:
    """A CA and a server certificate it signed for 127.0.0.1 and localhost, as PEM files."""

    ca_path: Path
    cert_path: Path
    key_path: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(directory: Path, *, ca_name: str = "throwaway test CA") -> Certificates:
    """Write a fresh CA and a 127.0.0.1 server certificate it signed into ``directory``."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name(ca_name))
        .issuer_name(_name(ca_name))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("kube-apiserver"))
        .issuer_name(ca.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    certificates = Certificates(
        directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    )
    certificates.ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    certificates.cert_path.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    certificates.key_path.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificates


@attrs.define
class TlsIssuer:
    """The running issuer: what it serves, to whom, and what it was asked."""

    url: str
    certificates: Certificates
    token_path: Path
    signer: DevIssuer
    clock: Clock
    accepted_token: str = FIRST_READER_TOKEN
    jwks_uri: str = ""
    jwks_needs_token: bool = True
    requests: list[tuple[str, str | None]] = attrs.field(factory=list)

    def config(self, **overrides: Any) -> IssuerConfig:
        """The issuer as gharts trusts a cluster: its CA, the reader token file, machine kind."""
        fields: dict[str, Any] = {
            "issuer": self.url,
            "audiences": (AUDIENCE,),
            "kind": IssuerKind.MACHINE,
            "algorithms": ("RS256",),
            "ca_bundle_path": str(self.certificates.ca_path),
            "jwks_bearer_token_path": str(self.token_path),
        }
        return IssuerConfig(**(fields | overrides))

    def settings_table(self) -> dict[str, Any]:
        """The same issuer as one ``[[auth.issuers]]`` table of gharts.toml."""
        return {
            "issuer": self.url,
            "audiences": [AUDIENCE],
            "kind": "machine",
            "algorithms": ["RS256"],
            "ca_bundle_path": str(self.certificates.ca_path),
            "jwks_bearer_token_path": str(self.token_path),
        }

    def rotate_reader_token(self, token: str) -> None:
        """Accept only ``token`` from now on and write it where gharts reads it (the kubelet)."""
        self.accepted_token = token
        self.token_path.write_text(token + "\n", encoding="utf-8")

    def service_account_token(
        self, namespace: str, name: str, *, lifetime: timedelta = timedelta(hours=1)
    ) -> str:
        """A projected service-account token as the API server signs it."""
        now = int(self.clock.now().timestamp())
        claims = {
            "iss": self.url,
            "sub": f"system:serviceaccount:{namespace}:{name}",
            "aud": [AUDIENCE],
            "iat": now,
            "nbf": now,
            "exp": now + int(lifetime.total_seconds()),
            "kubernetes.io": {
                "namespace": namespace,
                "serviceaccount": {"name": name, "uid": "5f1c0c7e-0000-4000-8000-000000000001"},
            },
        }
        return self.signer.sign(claims)

    def authorizations(self, path: str) -> list[str | None]:
        """The ``Authorization`` headers of the requests for ``path``, in order."""
        return [auth for asked, auth in self.requests if asked == path]

    def documents(self) -> dict[str, dict[str, Any]]:
        """Discovery and JWKS as the API server serves them."""
        discovery = {
            "issuer": self.url,
            "jwks_uri": self.jwks_uri or self.url + JWKS_PATH,
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }
        return {DISCOVERY_PATH: discovery, JWKS_PATH: self.signer.jwks_document()}


class _IssuerServer(ThreadingHTTPServer):
    issuer: TlsIssuer
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    server: _IssuerServer

    def do_GET(self) -> None:
        issuer = self.server.issuer
        authorization = self.headers.get("Authorization")
        issuer.requests.append((self.path, authorization))
        document = issuer.documents().get(self.path)
        needs_token = self.path == DISCOVERY_PATH or issuer.jwks_needs_token
        if document is None:
            self._answer(404, {"kind": "Status", "message": "not found"})
        elif needs_token and authorization != f"Bearer {issuer.accepted_token}":
            self._answer(401, {"kind": "Status", "message": "Unauthorized"})
        else:
            self._answer(200, document)

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        """Stay quiet: pytest shows what the test asserts."""


@contextmanager
def tls_issuer(directory: Path, *, clock: Clock | None = None) -> Iterator[TlsIssuer]:
    """Serve a Kubernetes-like issuer on https://127.0.0.1:<free port> until the block ends."""
    certificates = make_certificates(directory / "pki")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates.cert_path, certificates.key_path)
    server = _IssuerServer(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    url = f"https://127.0.0.1:{server.server_address[1]}"
    clock = clock or SystemClock()
    server.issuer = TlsIssuer(
        url=url,
        certificates=certificates,
        token_path=directory / "reader-token",
        signer=DevIssuer(url, audience=AUDIENCE, clock=clock),
        clock=clock,
    )
    server.issuer.rotate_reader_token(FIRST_READER_TOKEN)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.issuer
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
