"""Claim checks after the signature: lifetime, audience, and what kind of caller it is."""

from __future__ import annotations

import math
import types
from datetime import UTC, datetime
from typing import Any

from gharts_adapters.identity.config import IssuerConfig, IssuerKind
from gharts_core.errors import InvalidToken
from gharts_core.ports.identity import TokenKind, VerifiedToken

_LATEST_DATE = 253_402_300_799  # 9999-12-31T23:59:59Z, the last instant a datetime can hold


def check_claims(config: IssuerConfig, claims: dict[str, Any], now: float) -> VerifiedToken:
    """Return the verified token for ``claims``, or raise :class:`InvalidToken` with the reason.

    ``exp`` must be in the future (no leeway: a token is never used past its end); ``nbf`` and
    ``iat`` may be in the future by at most the issuer's leeway to allow for clock skew.
    """
    exp = _numeric_date(claims, "exp")
    if exp is None:
        raise InvalidToken("The token has no expiry (exp).", reason="missing_claim")
    if now >= exp:
        raise InvalidToken("The token has expired.", reason="expired")
    nbf = _numeric_date(claims, "nbf")
    if nbf is not None and nbf > now + config.leeway:
        raise InvalidToken("The token is not valid yet (nbf).", reason="not_yet_valid")
    iat = _numeric_date(claims, "iat")
    if iat is not None and iat > now + config.leeway:
        raise InvalidToken("The token was issued in the future (iat).", reason="issued_in_future")
    _check_audience(config, claims.get("aud"))
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("The token names no subject (sub).", reason="missing_claim")
    kind = classify(config, claims, subject)
    email: str | None = None
    verified = False
    if kind is TokenKind.USER:
        value = claims.get(config.user_claim)
        email = value.lower() if isinstance(value, str) and value else None
        verified = email is not None and (config.trust_email or _truthy(claims))
    name = claims.get("name")
    return VerifiedToken(
        issuer=config.issuer,
        subject=subject,
        kind=kind,
        expires_at=datetime.fromtimestamp(exp, UTC),
        email=email,
        email_verified=verified,
        name=name if isinstance(name, str) else None,
        claims=types.MappingProxyType(claims),
    )


def classify(config: IssuerConfig, claims: dict[str, Any], subject: str) -> TokenKind:
    """Return whether the token names a user or a machine, following the issuer's ``kind``."""
    if config.kind is IssuerKind.USER:
        return TokenKind.USER
    if config.kind is IssuerKind.MACHINE:
        return TokenKind.MACHINE
    if claims.get("gty") == "client-credentials":
        return TokenKind.MACHINE
    if subject in (claims.get("client_id"), claims.get("azp")):
        return TokenKind.MACHINE
    return TokenKind.USER


def _numeric_date(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isfinite(number) and 0 <= number <= _LATEST_DATE:
            return number
    raise InvalidToken(f"The token's {name} is not a valid date.", reason="malformed")


def _check_audience(config: IssuerConfig, audience: object) -> None:
    if isinstance(audience, str):
        audiences: list[object] = [audience]
    elif isinstance(audience, list):
        audiences = audience
    else:
        raise InvalidToken("The token names no audience (aud).", reason="wrong_audience")
    if not any(isinstance(a, str) and a in config.audiences for a in audiences):
        raise InvalidToken("The token is not meant for this service.", reason="wrong_audience")


def _truthy(claims: dict[str, Any]) -> bool:
    value = claims.get("email_verified")
    # Some providers (Cognito among them) send the flag as a string.
    return value is True or (isinstance(value, str) and value.lower() == "true")
