"""GitHub App authentication: the app JWT and a process-wide installation token cache."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import structlog
from joserfc import jwt
from joserfc.jwk import RSAKey

from gharts_adapters.github._converters import InstallationToken, PayloadError, parse
from gharts_adapters.github._session import GitHubSession
from gharts_core.errors import GitHubUnavailable
from gharts_core.ports.clock import Clock

log = structlog.get_logger(__name__)

RENEW_BEFORE = timedelta(minutes=5)
JWT_BACKDATE = timedelta(seconds=60)  # absorbs clock skew between gharts and GitHub
JWT_LIFETIME = timedelta(minutes=9)  # GitHub refuses app JWTs living more than 10 minutes

_CacheKey = tuple[str, int, int, str]


class TokenCache:
    """Installation tokens keyed by (API root, app, installation, key), with one lock per key."""

    def __init__(self) -> None:
        self._tokens: dict[_CacheKey, InstallationToken] = {}
        self._locks: dict[_CacheKey, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = {}

    def get(self, key: _CacheKey) -> InstallationToken | None:
        """Return the cached token for ``key``, if any."""
        return self._tokens.get(key)

    def put(self, key: _CacheKey, token: InstallationToken) -> None:
        """Remember ``token`` for ``key``."""
        self._tokens[key] = token

    def discard(self, key: _CacheKey, token: str) -> None:
        """Forget the token for ``key`` if it is still ``token``."""
        cached = self._tokens.get(key)
        if cached is not None and cached.token == token:
            del self._tokens[key]

    def lock(self, key: _CacheKey) -> asyncio.Lock:
        """Return the refresh lock of ``key`` for the running event loop."""
        loop = asyncio.get_running_loop()
        entry = self._locks.get(key)
        if entry is None or entry[0] is not loop:
            entry = (loop, asyncio.Lock())
            self._locks[key] = entry
        return entry[1]


PROCESS_TOKEN_CACHE = TokenCache()


class _AppJwt:
    """Credentials for the ``/app`` endpoints: a fresh app JWT per request."""

    def __init__(self, auth: GitHubAppAuth) -> None:
        self._auth = auth

    async def authorization(self) -> str:
        return f"Bearer {self._auth.app_jwt()}"

    def reject(self, authorization: str) -> None:
        """Nothing to forget: every request signs a new JWT."""


class GitHubAppAuth:
    """Signs app JWTs and keeps one installation token fresh, refreshing it one at a time."""

    def __init__(
        self,
        session: GitHubSession,
        *,
        app_id: int,
        installation_id: int,
        private_key_pem: str,
        clock: Clock,
        cache: TokenCache | None = None,
    ) -> None:
        self._session = session
        self._app_id = app_id
        self._installation_id = installation_id
        self._private_key = RSAKey.import_key(private_key_pem)
        self._clock = clock
        self._cache = cache if cache is not None else PROCESS_TOKEN_CACHE
        fingerprint = hashlib.sha256(private_key_pem.encode()).hexdigest()[:16]
        self._key: _CacheKey = (session.api_url, app_id, installation_id, fingerprint)
        self._app_credentials = _AppJwt(self)

    def app_jwt(self) -> str:
        """Return an RS256 app JWT issued 60 s ago and valid for 9 minutes from then."""
        issued = self._clock.now() - JWT_BACKDATE
        claims = {
            "iat": int(issued.timestamp()),
            "exp": int((issued + JWT_LIFETIME).timestamp()),
            "iss": str(self._app_id),
        }
        return jwt.encode({"alg": "RS256", "typ": "JWT"}, claims, self._private_key)

    async def authorization(self) -> str:
        """Return ``Bearer <installation token>``, renewing the token when it is due."""
        return f"Bearer {await self.installation_token()}"

    def reject(self, authorization: str) -> None:
        """Forget the installation token GitHub just refused."""
        self._cache.discard(self._key, authorization.removeprefix("Bearer "))

    async def installation_token(self) -> str:
        """Return a token valid for at least 5 more minutes; concurrent callers share one fetch."""
        cached = self._fresh()
        if cached is not None:
            return cached.token
        async with self._cache.lock(self._key):
            cached = self._fresh()
            if cached is None:
                cached = await self._fetch()
                self._cache.put(self._key, cached)
            return cached.token

    def _fresh(self) -> InstallationToken | None:
        cached = self._cache.get(self._key)
        if cached is None or self._clock.now() >= cached.expires_at - RENEW_BEFORE:
            return None
        return cached

    async def _fetch(self) -> InstallationToken:
        reply = await self._session.send(
            "POST",
            f"/app/installations/{self._installation_id}/access_tokens",
            credentials=self._app_credentials,
        )
        try:
            token = parse(reply.body, InstallationToken)
        except PayloadError as exc:
            raise GitHubUnavailable("GitHub returned an unreadable installation token.") from exc
        log.info(
            "github.installation_token_renewed",
            installation_id=self._installation_id,
            expires_at=token.expires_at.isoformat(),
        )
        return token
