"""One trusted issuer's signing keys: fetched, cached, refreshed, and kept while it is down."""

from __future__ import annotations

import asyncio
import math

import httpx
import structlog
from joserfc.errors import JoseError
from joserfc.jwa import JWSAlgModel
from joserfc.jwk import Key

from gharts_adapters.identity._compact import shown
from gharts_adapters.identity._fetch import (
    MAX_DISCOVERY_BYTES,
    MAX_JWKS_BYTES,
    FetchError,
    cache_lifetime,
    fetch_json,
    import_keys,
    read_bearer_token,
)
from gharts_adapters.identity.config import IssuerConfig, check_url
from gharts_core.errors import InvalidToken
from gharts_core.ports.clock import Clock

DISCOVERY_PATH = "/.well-known/openid-configuration"
DEFAULT_TTL_SECONDS = 300.0
MIN_TTL_SECONDS = 60.0
MAX_TTL_SECONDS = 3600.0
REFETCH_INTERVAL_SECONDS = 30.0
FETCH_TIMEOUT_SECONDS = 5.0

log = structlog.get_logger(__name__)


class IssuerKeys:
    """The JWKS of one issuer, refreshed after its TTL and on an unknown ``kid``.

    Fetches happen at most once per ``refetch_interval`` seconds and one at a time; while the
    issuer cannot be reached the keys of the last successful fetch stay in use.
    """

    def __init__(
        self,
        config: IssuerConfig,
        client: httpx.AsyncClient,
        clock: Clock,
        *,
        refetch_interval: float = REFETCH_INTERVAL_SECONDS,
        default_ttl: float = DEFAULT_TTL_SECONDS,
        timeout: float = FETCH_TIMEOUT_SECONDS,
    ) -> None:
        self.config = config
        self._client = client
        self._clock = clock
        self._refetch_interval = refetch_interval
        self._default_ttl = default_ttl
        self._timeout = timeout
        self._jwks_uri = config.jwks_uri
        self._keys: dict[str, tuple[Key, ...]] = {}
        self._chosen: dict[tuple[str | None, str], Key] = {}
        self._fresh_until = -math.inf
        self._last_attempt = -math.inf
        self._lock = asyncio.Lock()

    @property
    def ready(self) -> bool:
        """Whether at least one fetch succeeded, so tokens can be verified."""
        return bool(self._keys)

    def publishes(self, kid: str) -> bool:
        """Whether the last JWKS fetched holds a key with this ``kid``."""
        return kid in self._keys

    async def warm(self) -> bool:
        """Fetch the keys now, whatever the rate limit; return whether keys are loaded."""
        async with self._lock:
            await self._fetch()
        return self.ready

    async def key_for(self, kid: str | None, algorithm: JWSAlgModel) -> Key:
        """Return the key that must have signed a token with this ``kid`` and algorithm.

        Raise :class:`InvalidToken` (``unknown_kid``, or ``keys_unavailable`` when no key was
        ever loaded) when no published key fits, after at most one rate-limited refetch.
        """
        if self._now() >= self._fresh_until and not self._lock.locked():
            async with self._lock:
                if self._now() >= self._fresh_until and self._may_fetch():
                    await self._fetch()
        key = self._choose(kid, algorithm)
        if key is not None:
            return key
        async with self._lock:
            # A concurrent fetch may have brought the key while this one waited for the lock.
            key = self._choose(kid, algorithm)
            if key is None and self._may_fetch():
                await self._fetch()
                key = self._choose(kid, algorithm)
        if key is not None:
            return key
        if not self.ready:
            raise InvalidToken(
                f"The signing keys of {self.config.issuer} are unavailable.",
                reason="keys_unavailable",
            )
        raise InvalidToken(
            f"No key of {self.config.issuer} has id {shown(kid)} for {algorithm.name}.",
            reason="unknown_kid",
        )

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _may_fetch(self) -> bool:
        return self._now() - self._last_attempt >= self._refetch_interval

    def _choose(self, kid: str | None, algorithm: JWSAlgModel) -> Key | None:
        cached = self._chosen.get((kid, algorithm.name))
        if cached is not None:
            return cached
        if kid is None:
            candidates = [key for keys in self._keys.values() for key in keys]
            usable = [key for key in candidates if _fits(key, algorithm)]
            # Without a kid only an unambiguous key set may be used.
            chosen = usable[0] if len(usable) == 1 else None
        else:
            chosen = next((k for k in self._keys.get(kid, ()) if _fits(k, algorithm)), None)
        if chosen is not None:
            self._chosen[kid, algorithm.name] = chosen
        return chosen

    async def _fetch(self) -> None:
        now = self._now()
        self._last_attempt = now
        try:
            token = self._bearer_token()
            jwks_uri = self._jwks_uri or await self._discover(token)
            document, headers = await fetch_json(
                self._client,
                jwks_uri,
                limit=MAX_JWKS_BYTES,
                http_timeout=self._timeout,
                bearer_token=token if self._may_send_token(jwks_uri) else None,
            )
            keys = import_keys(document)
        except FetchError as exc:
            log.warning(
                "identity.jwks_fetch_failed",
                issuer=self.config.issuer,
                error=str(exc),
                keeping_keys=len(self._keys),
            )
            return
        self._jwks_uri = jwks_uri
        self._keys = keys
        self._chosen = {}
        ttl = cache_lifetime(
            headers, default=self._default_ttl, floor=MIN_TTL_SECONDS, ceiling=MAX_TTL_SECONDS
        )
        self._fresh_until = now + ttl
        log.debug("identity.jwks_loaded", issuer=self.config.issuer, kids=sorted(keys), ttl=ttl)

    def _bearer_token(self) -> str | None:
        path = self.config.jwks_bearer_token_path
        return None if path is None else read_bearer_token(path)

    def _may_send_token(self, jwks_uri: str) -> bool:
        # The token is a credential: it goes to the configured jwks_uri, or to a discovered one
        # only on the issuer's own origin, never to wherever a discovery document points.
        return jwks_uri == self.config.jwks_uri or _origin(jwks_uri) == _origin(self.config.issuer)

    async def _discover(self, token: str | None) -> str:
        url = self.config.issuer.rstrip("/") + DISCOVERY_PATH
        document, _ = await fetch_json(
            self._client,
            url,
            limit=MAX_DISCOVERY_BYTES,
            http_timeout=self._timeout,
            bearer_token=token,
        )
        if document.get("issuer") != self.config.issuer:
            raise FetchError(
                f"{url} names issuer {shown(document.get('issuer'))}, not {self.config.issuer!r}"
            )
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise FetchError(f"{url} has no jwks_uri")
        try:
            check_url(jwks_uri, what="jwks_uri")
        except ValueError as exc:
            raise FetchError(f"{url}: {exc}") from exc
        return jwks_uri


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = httpx.URL(url)
    return parts.scheme, parts.host, parts.port


def _fits(key: Key, algorithm: JWSAlgModel) -> bool:
    try:
        algorithm.check_key(key)
    except (JoseError, ValueError):
        return False
    return True
