"""Defensive parsing of a JWS compact serialisation, before anything is trusted."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

import attrs

from gharts_core.errors import InvalidToken

MAX_TOKEN_LENGTH = 16 * 1024
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_ACCEPTED_TYPES = frozenset({"jwt", "at+jwt"})


@attrs.frozen
class UnverifiedToken:
    """The decoded parts of a token whose signature has not been checked yet."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def shown(value: object, limit: int = 64) -> str:
    """Return ``repr(value)`` cut to ``limit`` characters, for messages quoting token content."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def malformed(detail: str) -> InvalidToken:
    """Return the error for a token that is not a well-formed JWS."""
    return InvalidToken(f"The token is malformed: {detail}.", reason="malformed")


def parse(token: str) -> UnverifiedToken:
    """Split and decode ``token``; raise :class:`InvalidToken` unless it is a sane compact JWS."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken(
            f"The token is longer than {MAX_TOKEN_LENGTH} characters.", reason="too_large"
        )
    if not _COMPACT.fullmatch(token):
        raise malformed("not three base64url segments separated by dots")
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = _json_object(_b64decode(header_b64, "header"), "header")
    _check_header(header)
    claims = _json_object(_b64decode(payload_b64, "payload"), "payload")
    return UnverifiedToken(
        header=header,
        claims=claims,
        signing_input=f"{header_b64}.{payload_b64}".encode("ascii"),
        signature=_b64decode(signature_b64, "signature"),
    )


def _b64decode(segment: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise malformed(f"the {what} is not base64url") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        # Parsers disagree on which duplicate wins; refusing removes the ambiguity.
        raise ValueError("duplicate member")
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise malformed(f"the {what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise malformed(f"the {what} is not a JSON object")
    return value


def _check_header(header: dict[str, Any]) -> None:
    if not isinstance(header.get("alg"), str):
        raise malformed("the header has no algorithm")
    if not isinstance(header.get("kid", ""), str):
        raise malformed("the key id is not a string")
    if "crit" in header:
        # No JWS extension is understood here, so any critical one must be refused (RFC 7515).
        raise InvalidToken(
            f"The token requires unsupported extensions: {shown(header['crit'])}.",
            reason="unsupported_crit",
        )
    typ = header.get("typ")
    if typ is not None:
        normalised = typ.lower().removeprefix("application/") if isinstance(typ, str) else None
        if normalised not in _ACCEPTED_TYPES:
            raise InvalidToken(
                f"The token type {shown(typ)} is not JWT or at+jwt.", reason="wrong_type"
            )
