"""The :class:`gharts_core.ports.TokenVerifier` for JWTs from several trusted issuers."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable, Mapping

import httpx
import structlog
from joserfc.errors import JoseError

from gharts_adapters.identity._compact import MAX_TOKEN_LENGTH, malformed, parse, shown
from gharts_adapters.identity.cache import DEFAULT_MAX_ENTRIES, CachedToken, VerifiedTokenCache
from gharts_adapters.identity.claims import check_claims
from gharts_adapters.identity.config import (
    ASYMMETRIC_ALGORITHMS,
    SIGNATURE_ALGORITHMS,
    IssuerConfig,
)
from gharts_adapters.identity.keys import (
    DEFAULT_TTL_SECONDS,
    FETCH_TIMEOUT_SECONDS,
    REFETCH_INTERVAL_SECONDS,
    IssuerKeys,
)
from gharts_adapters.identity.tls import load_ca_bundle
from gharts_core.errors import InvalidToken
from gharts_core.ports.clock import Clock, SystemClock
from gharts_core.ports.identity import VerifiedToken

log = structlog.get_logger(__name__)


class JwtVerifier:
    """Verify bearer JWTs against the configured issuers' published keys.

    The issuer is chosen by the exact ``iss`` claim before any key is fetched; keys come only
    from that issuer's JWKS (``jku``, ``x5u``, ``jwk`` and ``x5c`` headers are never used).
    Every refusal is an :class:`InvalidToken` whose ``reason`` says why. Verified tokens are
    remembered by digest until they expire, as long as the key that signed them is published.

    ``client`` is the shared :class:`httpx.AsyncClient`, owned and closed by the caller. An
    issuer with a ``ca_bundle_path`` is reached through a client of its own that trusts only
    that CA; the verifier makes those clients and :meth:`aclose` closes them.
    """

    def __init__(
        self,
        issuers: Iterable[IssuerConfig],
        client: httpx.AsyncClient,
        *,
        clock: Clock | None = None,
        cache_size: int = DEFAULT_MAX_ENTRIES,
        jwks_ttl: float = DEFAULT_TTL_SECONDS,
        refetch_interval: float = REFETCH_INTERVAL_SECONDS,
        fetch_timeout: float = FETCH_TIMEOUT_SECONDS,
    ) -> None:
        self._clock: Clock = clock or SystemClock()
        self._keys: dict[str, IssuerKeys] = {}
        self._own_clients: list[httpx.AsyncClient] = []
        for config in issuers:
            if config.issuer in self._keys:
                raise ValueError(f"issuer {config.issuer!r} is configured twice")
            self._keys[config.issuer] = IssuerKeys(
                config,
                self._client_for(config, client),
                self._clock,
                refetch_interval=refetch_interval,
                default_ttl=jwks_ttl,
                timeout=fetch_timeout,
            )
        self._cache = VerifiedTokenCache(cache_size)

    def _client_for(self, config: IssuerConfig, shared: httpx.AsyncClient) -> httpx.AsyncClient:
        if config.ca_bundle_path is None:
            return shared
        own = httpx.AsyncClient(verify=load_ca_bundle(config.ca_bundle_path))
        self._own_clients.append(own)
        return own

    async def aclose(self) -> None:
        """Close the clients this verifier made for issuers with their own CA bundle."""
        clients, self._own_clients = self._own_clients, []
        for own in clients:
            await own.aclose()

    @property
    def issuers(self) -> tuple[IssuerConfig, ...]:
        """The trusted issuers, in configuration order."""
        return tuple(keys.config for keys in self._keys.values())

    async def warm(self) -> Mapping[str, bool]:
        """Load every issuer's keys now (at start-up) and return :meth:`readiness`.

        An unreachable issuer is logged, not raised: its tokens are refused until it answers.
        """
        await asyncio.gather(*(keys.warm() for keys in self._keys.values()))
        return self.readiness()

    def readiness(self) -> Mapping[str, bool]:
        """Return, per configured issuer, whether its signing keys are loaded."""
        return {issuer: keys.ready for issuer, keys in self._keys.items()}

    async def verify(self, token: object) -> VerifiedToken:
        """Return the verified claims of ``token``, or raise :class:`InvalidToken`."""
        if not isinstance(token, str) or not token.isascii():
            raise malformed("the token is not ASCII text")
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken(
                f"The token is longer than {MAX_TOKEN_LENGTH} characters.", reason="too_large"
            )
        digest = hashlib.sha256(token.encode("ascii")).digest()
        cached = self._cache.get(digest, self._clock.now().timestamp())
        if cached is not None:
            if self._keys[cached.verified.issuer].publishes(cached.kid):
                return cached.verified
            self._cache.discard(digest)
        try:
            verified, kid = await self._verify(token)
        except InvalidToken:
            raise
        except Exception as exc:
            # The port promises InvalidToken and nothing else; a bug must not become a 500.
            log.exception("identity.verification_crashed")
            raise InvalidToken("The token could not be verified.", reason="unverifiable") from exc
        self._cache.put(digest, CachedToken(verified, verified.expires_at.timestamp(), kid))
        return verified

    async def _verify(self, token: str) -> tuple[VerifiedToken, str]:
        unverified = parse(token)
        alg = unverified.header["alg"]
        if alg not in ASYMMETRIC_ALGORITHMS:
            raise _algorithm_not_allowed(alg)
        issuer = unverified.claims.get("iss")
        keys = self._keys.get(issuer) if isinstance(issuer, str) else None
        if keys is None:
            raise InvalidToken(
                f"The token's issuer {shown(issuer)} is not trusted.", reason="untrusted_issuer"
            )
        if alg not in keys.config.algorithms:
            raise _algorithm_not_allowed(alg)
        algorithm = SIGNATURE_ALGORITHMS[alg]
        key = await keys.key_for(unverified.header.get("kid"), algorithm)
        try:
            valid = bool(unverified.signature) and algorithm.verify(
                unverified.signing_input, unverified.signature, key
            )
        except (JoseError, ValueError):
            valid = False
        if not valid:
            raise InvalidToken("The token's signature is not valid.", reason="bad_signature")
        verified = check_claims(keys.config, unverified.claims, self._clock.now().timestamp())
        return verified, str(key.kid)


def _algorithm_not_allowed(alg: str) -> InvalidToken:
    return InvalidToken(
        f"The token's algorithm {shown(alg)} is not allowed.", reason="algorithm_not_allowed"
    )
