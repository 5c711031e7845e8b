"""The authorization-code flow of the dev issuer: requests checked, codes issued and redeemed.

Only what a browser login against ``gharts dev`` needs: ``response_type=code`` with PKCE
(``S256``), ``state`` and ``nonce``, public clients, redirect URIs on the issuer's own origin
(so the login page can never send a code elsewhere), single-use codes valid for one minute.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import attrs

CODE_LIFETIME = timedelta(minutes=1)


class AuthorizationError(Exception):
    """An OAuth error: ``error`` is the RFC 6749 code, the message is for people."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@attrs.frozen(kw_only=True)
class AuthorizationRequest:
    """The parameters of one checked authorization request."""

    client_id: str
    redirect_uri: str
    state: str
    nonce: str
    code_challenge: str
    scope: str


@attrs.frozen(kw_only=True)
class IssuedCode:
    """What a code stands for until it is redeemed."""

    request: AuthorizationRequest
    email: str
    expires_at: datetime


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def check_request(params: Mapping[str, str], issuer: str) -> AuthorizationRequest:
    """Return the checked request, or raise :class:`AuthorizationError` naming the problem."""
    if params.get("response_type") != "code":
        raise AuthorizationError("unsupported_response_type", "response_type must be code.")
    for name in ("client_id", "redirect_uri", "state", "nonce", "code_challenge"):
        if not params.get(name):
            raise AuthorizationError("invalid_request", f"{name} is required.")
    if params.get("code_challenge_method") != "S256":
        raise AuthorizationError("invalid_request", "code_challenge_method must be S256.")
    if "openid" not in params.get("scope", "").split():
        raise AuthorizationError("invalid_scope", "scope must include openid.")
    if _origin(params["redirect_uri"]) != _origin(issuer):
        raise AuthorizationError(
            "invalid_request", "redirect_uri must be on the dev issuer's own origin."
        )
    return AuthorizationRequest(
        client_id=params["client_id"],
        redirect_uri=params["redirect_uri"],
        state=params["state"],
        nonce=params["nonce"],
        code_challenge=params["code_challenge"],
        scope=params["scope"],
    )


def s256(verifier: str) -> str:
    """Return the PKCE ``S256`` challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class CodeBook:
    """Issued authorization codes, in memory; each can be redeemed once, within its lifetime."""

    def __init__(self) -> None:
        self._codes: dict[str, IssuedCode] = {}

    def issue(self, request: AuthorizationRequest, email: str, now: datetime) -> str:
        """Return a new code for ``email``, answering ``request``."""
        self._codes = {c: i for c, i in self._codes.items() if i.expires_at > now}
        code = secrets.token_urlsafe(32)
        self._codes[code] = IssuedCode(request=request, email=email, expires_at=now + CODE_LIFETIME)
        return code

    def redeem(self, form: Mapping[str, str], now: datetime) -> IssuedCode:
        """Return what a token request's code stands for, once; raise ``AuthorizationError``."""
        if form.get("grant_type") != "authorization_code":
            raise AuthorizationError(
                "unsupported_grant_type", "grant_type must be authorization_code."
            )
        issued = self._codes.pop(form.get("code", ""), None)
        if issued is None or issued.expires_at <= now:
            raise AuthorizationError("invalid_grant", "The code is unknown, used or expired.")
        request = issued.request
        if form.get("client_id") != request.client_id:
            raise AuthorizationError("invalid_grant", "The code was issued to another client.")
        if form.get("redirect_uri") != request.redirect_uri:
            raise AuthorizationError("invalid_grant", "redirect_uri differs from the request's.")
        verifier = form.get("code_verifier", "")
        if not verifier or not hmac.compare_digest(s256(verifier), request.code_challenge):
            raise AuthorizationError("invalid_grant", "The PKCE code_verifier does not match.")
        return issued
