"""The identity port: turn a bearer token into verified claims, or refuse it."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

import attrs


class TokenKind(enum.StrEnum):
    """Whether the token names a person or a machine (M2M client, workload identity)."""

    USER = "user"
    MACHINE = "machine"


@attrs.frozen
class VerifiedToken:
    """The claims of a token whose signature, issuer, audience and lifetime were checked.

    ``email`` is the value of the issuer's configured user claim (default ``email``), lower-cased;
    ``email_verified`` is true when the token says so or the issuer is configured to vouch for it.
    """

    issuer: str
    subject: str
    kind: TokenKind
    expires_at: datetime
    email: str | None = None
    email_verified: bool = False
    name: str | None = None
    claims: Mapping[str, Any] = attrs.field(factory=dict)


class TokenVerifier(Protocol):
    """Verifies bearer tokens from the trusted issuers."""

    async def verify(self, token: str) -> VerifiedToken:
        """Return the verified claims, or raise :class:`gharts_core.errors.InvalidToken`."""
        ...

    def readiness(self) -> Mapping[str, bool]:
        """Return, per configured issuer, whether its signing keys are loaded."""
        ...
