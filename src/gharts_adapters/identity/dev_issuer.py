"""The development token issuer of ``gharts dev``: a local key pair and the documents to serve.

The HTTP layer mounts :meth:`DevIssuer.documents` under the issuer's path (e.g. ``/dev/oidc``)::

    issuer = DevIssuer("http://127.0.0.1:8000/dev/oidc", key_dir=Path(".gharts-dev"))
    issuer.documents()  # {"/.well-known/openid-configuration": {...}, "/jwks": {...}}
    token = issuer.mint_user_token("alice@example.com")
    token = issuer.mint_machine_token("demo-ci")
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey

from gharts_adapters.identity.config import (
    SIGNATURE_ALGORITHMS,
    IssuerConfig,
    IssuerKind,
    check_url,
)
from gharts_adapters.identity.dev_codes import (
    AuthorizationError,
    AuthorizationRequest,
    CodeBook,
    check_request,
)
from gharts_adapters.identity.keys import DISCOVERY_PATH
from gharts_core.ports.clock import Clock, SystemClock

JWKS_PATH = "/jwks"
AUTHORIZE_PATH = "/authorize"
TOKEN_PATH = "/token"  # noqa: S105 - a URL path, not a password
KEY_FILE = "dev-oidc-keys.json"
DEFAULT_AUDIENCE = "gharts"
DEFAULT_LIFETIME = timedelta(hours=1)
_ALGORITHM = "RS256"


class DevIssuer:
    """A local OIDC-style issuer that signs user and machine tokens with an RS256 key.

    With ``key_dir`` the keys are persisted there (PEM in ``dev-oidc-keys.json``, mode 0600) so
    tokens survive restarts; without it they live in memory only.
    """

    def __init__(
        self,
        issuer: str,
        *,
        key_dir: Path | str | None = None,
        audience: str = DEFAULT_AUDIENCE,
        clock: Clock | None = None,
    ) -> None:
        check_url(issuer, what="issuer", allow_query=False)
        self.issuer = issuer
        self.audience = audience
        self._clock: Clock = clock or SystemClock()
        self._key_file = Path(key_dir) / KEY_FILE if key_dir is not None else None
        self._keys: list[RSAKey] = self._load() or [_generate()]
        self._save()
        self._codes = CodeBook()

    @property
    def kid(self) -> str:
        """The id of the key new tokens are signed with."""
        return str(self._keys[-1].kid)

    @property
    def jwks_uri(self) -> str:
        """Where the public keys are served."""
        return self.issuer.rstrip("/") + JWKS_PATH

    @property
    def authorization_endpoint(self) -> str:
        """Where a browser asks for a login (the page ``gharts dev`` serves)."""
        return self.issuer.rstrip("/") + AUTHORIZE_PATH

    @property
    def token_endpoint(self) -> str:
        """Where an authorization code is exchanged for tokens."""
        return self.issuer.rstrip("/") + TOKEN_PATH

    def discovery_document(self) -> dict[str, Any]:
        """Return the OpenID Connect discovery document (``/.well-known/openid-configuration``)."""
        return {
            "issuer": self.issuer,
            "jwks_uri": self.jwks_uri,
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "response_types_supported": ["code", "id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [_ALGORITHM],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_post"],
            "scopes_supported": ["openid", "email", "profile"],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "email",
                "email_verified",
                "nonce",
            ],
        }

    def check_authorization_request(self, params: Mapping[str, str]) -> AuthorizationRequest:
        """Check an authorization request; raise :class:`AuthorizationError` naming the problem."""
        return check_request(params, self.issuer)

    def issue_code(self, request: AuthorizationRequest, email: str) -> str:
        """Return a single-use code logging ``email`` in, for the client of ``request``."""
        return self._codes.issue(request, email, self._clock.now())

    def redeem_code(self, form: Mapping[str, str]) -> dict[str, Any]:
        """Answer a token request (``grant_type=authorization_code`` with PKCE).

        Return the token response: an ID token for the client (``aud`` = its id, with the
        request's ``nonce``) and an access token for the API. Raise ``AuthorizationError``.
        """
        issued = self._codes.redeem(form, self._clock.now())
        email = issued.email
        id_claims = self._standard_claims(issued.request.client_id, DEFAULT_LIFETIME) | {
            "sub": f"dev|{email.lower()}",
            "email": email,
            "email_verified": True,
            "nonce": issued.request.nonce,
        }
        return {
            "token_type": "Bearer",
            "expires_in": int(DEFAULT_LIFETIME.total_seconds()),
            "id_token": self.sign(id_claims),
            "access_token": self.mint_user_token(email),
            "scope": issued.request.scope,
        }

    def jwks_document(self) -> dict[str, Any]:
        """Return the public keys as a JWKS, newest last."""
        return {
            "keys": [key.as_dict(private=False, use="sig", alg=_ALGORITHM) for key in self._keys]
        }

    def documents(self) -> dict[str, dict[str, Any]]:
        """Return every document to serve, by path relative to the issuer URL."""
        return {DISCOVERY_PATH: self.discovery_document(), JWKS_PATH: self.jwks_document()}

    def transport(self) -> httpx.MockTransport:
        """Return an httpx transport answering this issuer's documents in process, 404 for the rest.

        ``gharts dev`` hands the verifier a client on this transport, so verifying a token never
        needs the server to call itself over the network.
        """
        base = self.issuer.rstrip("/")

        def answer(request: httpx.Request) -> httpx.Response:
            url = str(request.url.copy_with(query=None))
            if request.method == "POST" and url == self.token_endpoint:
                return self._token_response(request)
            for path, document in self.documents().items():
                if url == base + path:
                    return httpx.Response(200, json=document)
            return httpx.Response(404, json={"error": "not found"})

        return httpx.MockTransport(answer)

    def _token_response(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode("utf-8", "replace")))
        try:
            return httpx.Response(200, json=self.redeem_code(form))
        except AuthorizationError as error:
            body = {"error": error.error, "error_description": error.description}
            return httpx.Response(400, json=body)

    def issuer_config(self, audiences: Iterable[str] | None = None) -> IssuerConfig:
        """Return the configuration that makes a verifier trust this issuer."""
        return IssuerConfig(
            issuer=self.issuer,
            audiences=tuple(audiences or (self.audience,)),
            algorithms=(_ALGORITHM,),
            kind=IssuerKind.AUTO,
        )

    def mint_user_token(
        self,
        email: str,
        *,
        subject: str | None = None,
        name: str | None = None,
        audience: str | None = None,
        lifetime: timedelta = DEFAULT_LIFETIME,
    ) -> str:
        """Return a token for a person with a verified ``email``; the subject derives from it."""
        claims: dict[str, Any] = {
            "sub": subject or f"dev|{email.lower()}",
            "email": email,
            "email_verified": True,
        }
        if name is not None:
            claims["name"] = name
        return self.sign(self._standard_claims(audience, lifetime) | claims)

    def mint_machine_token(
        self, client_id: str, *, audience: str | None = None, lifetime: timedelta = DEFAULT_LIFETIME
    ) -> str:
        """Return a client-credentials token: ``sub`` and ``client_id`` are the client id."""
        claims = {"sub": client_id, "client_id": client_id, "gty": "client-credentials"}
        return self.sign(self._standard_claims(audience, lifetime) | claims)

    def sign(
        self,
        claims: Mapping[str, Any],
        *,
        header: Mapping[str, Any] | None = None,
        kid: str | None = None,
    ) -> str:
        """Sign ``claims`` as they are (no claim added) with the current key, or key ``kid``.

        ``header`` replaces the default ``{"alg": "RS256", "typ": "JWT", "kid": ...}``
        members one by one (a ``None`` value removes one); tests use it to craft odd tokens.
        """
        key = next((k for k in self._keys if k.kid == kid), None) if kid else self._keys[-1]
        if key is None:
            raise KeyError(f"no dev issuer key {kid!r}")
        members = {"alg": _ALGORITHM, "typ": "JWT", "kid": key.kid, **(header or {})}
        protected = {name: value for name, value in members.items() if value is not None}
        signing_input = _b64json(protected) + b"." + _b64json(dict(claims))
        signature = SIGNATURE_ALGORITHMS[_ALGORITHM].sign(signing_input, key)
        return (signing_input + b"." + _b64(signature)).decode("ascii")

    def rotate_key(self) -> str:
        """Start signing with a new key; the old ones stay published. Return the new ``kid``."""
        self._keys.append(_generate())
        self._save()
        return self.kid

    def retire_old_keys(self) -> None:
        """Stop publishing every key but the current one."""
        self._keys = self._keys[-1:]
        self._save()

    def _standard_claims(self, audience: str | None, lifetime: timedelta) -> dict[str, Any]:
        now = int(self._clock.now().timestamp())
        return {
            "iss": self.issuer,
            "aud": audience or self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + int(lifetime.total_seconds()),
            "jti": secrets.token_urlsafe(16),
        }

    def _load(self) -> list[RSAKey]:
        if self._key_file is None or not self._key_file.exists():
            return []
        stored = json.loads(self._key_file.read_text(encoding="utf-8"))
        return [_import_pem(entry["private_key_pem"]) for entry in stored["keys"]]

    def _save(self) -> None:
        if self._key_file is None:
            return
        self._key_file.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(
            {
                "keys": [
                    {"kid": key.kid, "private_key_pem": key.as_pem(private=True).decode("ascii")}
                    for key in self._keys
                ]
            }
        )
        temporary = self._key_file.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(data)
        temporary.replace(self._key_file)


def _generate() -> RSAKey:
    return RSAKey.generate_key(2048, private=True, auto_kid=True)


def _import_pem(pem: str) -> RSAKey:
    # The key was generated here and its file is private to the user: the slow consistency check
    # of untrusted RSA keys is skipped, which makes loading ~1000 times faster.
    native = serialization.load_pem_private_key(
        pem.encode("ascii"), password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(native, rsa.RSAPrivateKey):
        raise TypeError("the dev issuer key file holds a key that is not RSA")
    key = RSAKey.import_key(native)
    key.ensure_kid()
    return key


def _b64(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def _b64json(value: dict[str, Any]) -> bytes:
    return _b64(json.dumps(value, separators=(",", ":")).encode("utf-8"))
