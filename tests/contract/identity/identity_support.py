"""Issuers for the identity tests: documents served over httpx transports that record requests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from gharts_adapters.identity import DevIssuer, JwtVerifier
from gharts_core.errors import InvalidToken

TRUSTED = "http://127.0.0.1:8000/dev/oidc"
OTHER_TRUSTED = "https://other.example.com/"
ATTACKER = "https://attacker.example.net/"
AUDIENCE = "gharts"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class RecordingTransport(httpx.AsyncBaseTransport):
    """Forward requests to ``inner`` and record their URLs; ``down`` simulates an outage."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[str] = []
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Record the request, then fail it (outage) or forward it."""
        self.requests.append(str(request.url))
        if self.down:
            raise httpx.ConnectError("connection refused (simulated outage)", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self.inner.aclose()

    def count(self, fragment: str = "") -> int:
        """Return how many requests went to a URL containing ``fragment``."""
        return sum(fragment in url for url in self.requests)

    def hosts(self) -> set[str]:
        """Return the hosts requests went to."""
        return {httpx.URL(url).host for url in self.requests}


MakeVerifier = Callable[..., JwtVerifier]
"""Build a verifier over the test network: ``make(*configs, **options)``."""


Documents = Callable[[], Mapping[str, Any]]


class IssuerNetwork:
    """An in-memory web of issuers: URL -> document (computed at request time) and headers."""

    def __init__(self) -> None:
        self._routes: dict[str, tuple[Documents, dict[str, str]]] = {}

    def serve(
        self, url: str, document: Documents, headers: Mapping[str, str] | None = None
    ) -> None:
        """Answer GET ``url`` with the JSON ``document()`` returns."""
        self._routes[url] = (document, dict(headers or {}))

    def serve_issuer(self, issuer: DevIssuer, headers: Mapping[str, str] | None = None) -> None:
        """Serve ``issuer``'s discovery document and JWKS where it says they are."""
        base = issuer.issuer.rstrip("/")
        for path in issuer.documents():
            self.serve(base + path, _document_of(issuer, path), headers)

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request from the routes, or 404."""
        route = self._routes.get(str(request.url))
        if route is None:
            return httpx.Response(404, json={"error": "not found"})
        document, headers = route
        return httpx.Response(200, json=document(), headers=headers)

    def transport(self) -> RecordingTransport:
        """Return a recording transport over this network."""
        return RecordingTransport(httpx.MockTransport(self.handler))


def _document_of(issuer: DevIssuer, path: str) -> Documents:
    return lambda: issuer.documents()[path]


def b64(raw: bytes) -> str:
    """Encode base64url without padding."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64json(value: object) -> str:
    """Encode a JSON value as a base64url segment."""
    return b64(json.dumps(value).encode())


def claims_for(issuer: DevIssuer, now: datetime, **overrides: Any) -> dict[str, Any]:
    """Return valid machine-token claims from ``issuer`` at ``now``; ``None`` removes a claim."""
    at = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": issuer.issuer,
        "sub": "gharts-ci",
        "client_id": "gharts-ci",
        "aud": AUDIENCE,
        "iat": at,
        "exp": at + int(timedelta(minutes=10).total_seconds()),
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def hs256(header: Mapping[str, Any], claims: Mapping[str, Any], secret: bytes) -> str:
    """Return a token MACed with HS256 and ``secret``."""
    signing_input = f"{b64json(dict(header))}.{b64json(dict(claims))}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


async def refusal(verifier: JwtVerifier, token: str) -> str:
    """Return the reason ``verifier`` refuses ``token`` with (failing if it is accepted)."""
    with pytest.raises(InvalidToken) as refused:
        await verifier.verify(token)
    return refused.value.reason
