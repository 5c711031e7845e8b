"""An in-memory :class:`gharts_core.ports.TokenVerifier` for tests that need callers.

Tokens are opaque random strings mapped back to the :class:`VerifiedToken` they were issued for::

    clock = FakeClock()
    verifier = FakeTokenVerifier(clock)
    token = verifier.user_token(email="alice@example.com")
    claims = await verifier.verify(token)
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from gharts_core.errors import InvalidToken
from gharts_core.ports.clock import Clock, SystemClock
from gharts_core.ports.identity import TokenKind, VerifiedToken

FAKE_ISSUER = "https://issuer.example.test/"
"""The issuer the convenience constructors use unless told otherwise."""

DEFAULT_LIFETIME = timedelta(hours=1)


class FakeTokenVerifier:
    """Verify tokens it issued itself; expiry is judged against the injected clock."""

    def __init__(
        self, clock: Clock | None = None, *, issuers: Iterable[str] = (FAKE_ISSUER,)
    ) -> None:
        self._clock: Clock = clock or SystemClock()
        self._tokens: dict[str, VerifiedToken] = {}
        self._ready: dict[str, bool] = dict.fromkeys(issuers, True)

    def issue(self, verified: VerifiedToken) -> str:
        """Return a new opaque token that :meth:`verify` maps back to ``verified``."""
        token = f"fake.{secrets.token_urlsafe(24)}"
        self._tokens[token] = verified
        self._ready.setdefault(verified.issuer, True)
        return token

    def user_token(
        self,
        *,
        email: str,
        subject: str | None = None,
        issuer: str = FAKE_ISSUER,
        email_verified: bool = True,
        name: str | None = None,
        lifetime: timedelta = DEFAULT_LIFETIME,
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        """Issue a token for a person; the subject defaults to one derived from the email."""
        subject = subject or f"user|{email.lower()}"
        expires_at = self._clock.now() + lifetime
        all_claims = {
            "iss": issuer,
            "sub": subject,
            "email": email,
            "email_verified": email_verified,
            "exp": int(expires_at.timestamp()),
            **(claims or {}),
        }
        return self.issue(
            VerifiedToken(
                issuer=issuer,
                subject=subject,
                kind=TokenKind.USER,
                expires_at=expires_at,
                email=email.lower(),
                email_verified=email_verified,
                name=name,
                claims=all_claims,
            )
        )

    def machine_token(
        self,
        *,
        subject: str,
        issuer: str = FAKE_ISSUER,
        lifetime: timedelta = DEFAULT_LIFETIME,
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        """Issue a client-credentials style token for a machine client."""
        expires_at = self._clock.now() + lifetime
        all_claims = {
            "iss": issuer,
            "sub": subject,
            "client_id": subject,
            "gty": "client-credentials",
            "exp": int(expires_at.timestamp()),
            **(claims or {}),
        }
        return self.issue(
            VerifiedToken(
                issuer=issuer,
                subject=subject,
                kind=TokenKind.MACHINE,
                expires_at=expires_at,
                claims=all_claims,
            )
        )

    def revoke(self, token: str) -> None:
        """Forget ``token``: it is refused from now on, like a token from nowhere."""
        self._tokens.pop(token, None)

    def set_ready(self, issuer: str, *, ready: bool) -> None:
        """Report ``issuer`` as having (or not having) its signing keys; unready issuers refuse."""
        self._ready[issuer] = ready

    async def verify(self, token: str) -> VerifiedToken:
        """Return the claims ``token`` was issued for, or raise :class:`InvalidToken`."""
        verified = self._tokens.get(token)
        if verified is None:
            raise InvalidToken("The token is malformed or unknown.", reason="malformed")
        if not self._ready.get(verified.issuer, False):
            raise InvalidToken(
                "The issuer's signing keys are unavailable.", reason="keys_unavailable"
            )
        if self._clock.now() >= verified.expires_at:
            raise InvalidToken("The token has expired.", reason="expired")
        return verified

    def readiness(self) -> Mapping[str, bool]:
        """Return, per known issuer, whether it is reported ready."""
        return dict(self._ready)
