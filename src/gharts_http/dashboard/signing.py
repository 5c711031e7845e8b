"""Keyed digests and signed values, all derived from the session secret.

* the session cookie holds a random token; the database stores only its keyed digest;
* the CSRF token of a session is a keyed digest of the session's token (nothing stored);
* the short-lived login cookie (state, nonce, PKCE verifier, return path) is signed JSON.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from typing import Any


class Signer:
    """Digests and signatures under one secret, each with its own purpose string."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def digest(self, purpose: str, value: str) -> str:
        """Return the hex HMAC-SHA256 of ``value`` for ``purpose`` (64 characters)."""
        message = f"{purpose}\x00{value}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def session_key(self, token: str) -> str:
        """Return the stored key of a session cookie's token."""
        return self.digest("session", token)

    def csrf_token(self, token: str) -> str:
        """Return the CSRF token of the session whose cookie holds ``token``."""
        return self.digest("csrf", token)

    def sign(self, value: dict[str, Any]) -> str:
        """Return ``value`` as signed, URL-safe text."""
        body = base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
        return f"{body}.{self.digest('signed', body)}"

    def unsign(self, text: str) -> dict[str, Any] | None:
        """Return the value of signed text, or ``None`` when it was not signed by us."""
        body, _, signature = text.rpartition(".")
        if not body or not hmac.compare_digest(signature, self.digest("signed", body)):
            return None
        try:
            value = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, binascii.Error):
            return None
        return value if isinstance(value, dict) else None


def new_token() -> str:
    """Return a fresh random token (256 bits)."""
    return secrets.token_urlsafe(32)
