"""Size-capped JSON fetching and JWKS import: everything that reads an issuer's documents."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
from pathlib import Path
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key

MAX_DISCOVERY_BYTES = 64 * 1024
MAX_JWKS_BYTES = 256 * 1024
MAX_KEYS = 100
MAX_BEARER_TOKEN_BYTES = 16 * 1024
MIN_RSA_BITS = 2048
_PUBLIC_MEMBERS = ("kty", "kid", "use", "key_ops", "alg", "n", "e", "crv", "x", "y")
_KEY_TYPES = frozenset({"RSA", "EC", "OKP"})
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d{1,10})\"?\s*(?:,|$)", re.IGNORECASE)


class FetchError(Exception):
    """An issuer document could not be fetched or made no sense; the message says why."""


def read_bearer_token(path: str) -> str:
    """Return the token in the file at ``path`` (white space stripped), read now.

    A projected service-account token is rotated by the kubelet in place, so it is read again
    for every fetch rather than once at start-up.
    """
    try:
        with Path(path).open("rb") as file:
            raw = file.read(MAX_BEARER_TOKEN_BYTES + 1)
    except OSError as exc:
        raise FetchError(f"the bearer token file {path} cannot be read: {exc.strerror}") from exc
    if len(raw) > MAX_BEARER_TOKEN_BYTES:
        raise FetchError(f"the bearer token file {path} is larger than {MAX_BEARER_TOKEN_BYTES} B")
    token = raw.decode("ascii", errors="replace").strip()
    if not token or not token.isprintable() or " " in token:
        raise FetchError(f"the bearer token file {path} holds no token")
    return token


async def fetch_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    limit: int,
    http_timeout: float,
    bearer_token: str | None = None,
) -> tuple[dict[str, Any], httpx.Headers]:
    """GET ``url`` and return its JSON object and headers, reading at most ``limit`` bytes.

    ``http_timeout`` bounds the whole exchange, not each read: httpx's timeouts apply per socket
    operation, so a server dripping one byte at a time would otherwise hold the key lock forever.
    ``bearer_token``, when given, is sent as ``Authorization: Bearer``.
    """
    headers = {"Accept": "application/json"}
    if bearer_token is not None:
        headers["Authorization"] = f"Bearer {bearer_token}"
    body = bytearray()
    try:
        async with (
            asyncio.timeout(http_timeout),
            client.stream(
                "GET",
                url,
                headers=headers,
                timeout=http_timeout,
                follow_redirects=False,
            ) as response,
        ):
            if response.status_code != 200:
                raise FetchError(f"{url} answered HTTP {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchError(f"{url} is larger than {limit} bytes")
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > limit:
                    raise FetchError(f"{url} is larger than {limit} bytes")
            answered = response.headers
    except httpx.HTTPError as exc:
        raise FetchError(f"{url} is unreachable: {type(exc).__name__}: {exc}") from exc
    except TimeoutError as exc:
        raise FetchError(f"{url} did not answer within {http_timeout} s") from exc
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise FetchError(f"{url} did not return JSON") from exc
    if not isinstance(value, dict):
        raise FetchError(f"{url} did not return a JSON object")
    return value, answered


def cache_lifetime(
    headers: httpx.Headers, *, default: float, floor: float, ceiling: float
) -> float:
    """Return how long a JWKS may be used before a refresh, from ``Cache-Control``, bounded."""
    cache_control = headers.get("cache-control", "")
    match = _MAX_AGE.search(cache_control)
    if match:
        return min(max(float(match.group(1)), floor), ceiling)
    if "no-cache" in cache_control.lower() or "no-store" in cache_control.lower():
        return floor
    return default


def import_keys(document: dict[str, Any]) -> dict[str, tuple[Key, ...]]:
    """Return the usable signature keys of a JWKS by ``kid``; skip what cannot be used safely."""
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise FetchError("the JWKS has no 'keys' list")
    by_kid: dict[str, list[Key]] = {}
    for entry in entries[:MAX_KEYS]:
        key = _import_key(entry)
        if key is not None:
            key.ensure_kid()
            by_kid.setdefault(str(key.kid), []).append(key)
    if not by_kid:
        raise FetchError("the JWKS holds no usable signature key")
    return {kid: tuple(keys) for kid, keys in by_kid.items()}


def _import_key(entry: object) -> Key | None:
    if not isinstance(entry, dict) or entry.get("kty") not in _KEY_TYPES:
        return None
    if entry.get("use", "sig") != "sig":
        return None
    if entry["kty"] == "RSA" and _rsa_bits(entry.get("n")) < MIN_RSA_BITS:
        return None
    # Only public members are read: a provider leaking private parts must not change anything.
    public = {name: entry[name] for name in _PUBLIC_MEMBERS if name in entry}
    try:
        return JWKRegistry.import_key(public)
    except (JoseError, ValueError, TypeError, KeyError, IndexError):
        return None


def _rsa_bits(modulus: object) -> int:
    if not isinstance(modulus, str):
        return 0
    try:
        raw = base64.urlsafe_b64decode(modulus + "=" * (-len(modulus) % 4))
    except (binascii.Error, ValueError):
        return 0
    return int.from_bytes(raw, "big").bit_length()
