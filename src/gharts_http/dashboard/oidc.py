"""The OIDC authorization-code flow with PKCE, through Authlib's httpx client.

:meth:`OidcLogin.start` returns the identity provider's authorization URL and the pending login
(``state``, ``nonce``, the PKCE verifier, the return path) that the login cookie carries;
:meth:`OidcLogin.finish` exchanges the code, verifies the ID token with the same
:class:`~gharts_adapters.identity.JwtVerifier` as API tokens (audience: our client id), checks
the nonce, and returns the verified claims for the core's :meth:`AuthService.sign_in`.
"""

from __future__ import annotations

import hmac
import secrets
import warnings
from typing import Any

import attrs
import authlib.deprecate
import httpx
from authlib.integrations.base_client.errors import OAuthError

from gharts_adapters.identity import JwtVerifier
from gharts_core.errors import InvalidToken
from gharts_core.ports.identity import VerifiedToken
from gharts_http.dashboard.config import DashboardConfig

with warnings.catch_warnings():
    # Authlib prefers the httpx2 fork and warns on import when it finds httpx instead; gharts
    # uses httpx everywhere, which Authlib still supports.
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

DISCOVERY_PATH = "/.well-known/openid-configuration"


class LoginFailed(Exception):
    """The login could not be completed; the message says why, for the person trying."""


@attrs.frozen(kw_only=True)
class PendingLogin:
    """What the login cookie remembers between the redirect and the callback."""

    state: str
    nonce: str
    code_verifier: str
    return_to: str

    def as_dict(self) -> dict[str, str]:
        """Return the fields as a plain dict, to be signed."""
        return attrs.asdict(self)

    @classmethod
    def of(cls, value: dict[str, Any]) -> PendingLogin | None:
        """Return the pending login in ``value``, or ``None`` when it is not one."""
        fields = ("state", "nonce", "code_verifier", "return_to")
        if not all(isinstance(value.get(name), str) for name in fields):
            return None
        return cls(**{name: value[name] for name in fields})


class OidcLogin:
    """The dashboard's OIDC client: one per app, over the shared ``client``."""

    def __init__(self, config: DashboardConfig, client: httpx.AsyncClient) -> None:
        self._config = config
        self._client = client
        self._verifier = JwtVerifier([config.verifier_issuer], client)
        self._metadata: dict[str, Any] | None = None

    async def metadata(self) -> dict[str, Any]:
        """Return the issuer's discovery document (fetched once, then remembered)."""
        if self._metadata is None:
            url = self._config.issuer.issuer.rstrip("/") + DISCOVERY_PATH
            try:
                response = await self._client.get(url, timeout=10)
                response.raise_for_status()
                document = response.json()
            except (httpx.HTTPError, ValueError) as error:
                raise LoginFailed(
                    "The identity provider cannot be reached right now; try again shortly."
                ) from error
            for name in ("authorization_endpoint", "token_endpoint"):
                if not isinstance(document.get(name), str):
                    raise LoginFailed(f"The identity provider publishes no {name}.")
            self._metadata = document
        return self._metadata

    def _oauth_client(self) -> AsyncOAuth2Client:
        config = self._config
        return AsyncOAuth2Client(
            client_id=config.client_id,
            client_secret=config.client_secret,
            token_endpoint_auth_method=("client_secret_basic" if config.client_secret else "none"),
            scope=config.scopes,
            redirect_uri=config.redirect_uri,
            code_challenge_method="S256",
            transport=_SharedTransport(self._client),
            timeout=10,
        )

    async def start(self, return_to: str) -> tuple[str, PendingLogin]:
        """Return the authorization URL to send the browser to, and the pending login."""
        metadata = await self.metadata()
        pending = PendingLogin(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            code_verifier=secrets.token_urlsafe(48),
            return_to=return_to,
        )
        async with self._oauth_client() as oauth:
            url, _ = oauth.create_authorization_url(
                metadata["authorization_endpoint"],
                state=pending.state,
                code_verifier=pending.code_verifier,
                nonce=pending.nonce,
            )
        return url, pending

    async def finish(self, pending: PendingLogin, *, code: str, state: str) -> VerifiedToken:
        """Exchange ``code`` and return the verified ID token; raise ``LoginFailed``."""
        if not hmac.compare_digest(state, pending.state):
            raise LoginFailed("The login answer does not match the login that was started.")
        metadata = await self.metadata()
        async with self._oauth_client() as oauth:
            try:
                token = await oauth.fetch_token(
                    metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=pending.code_verifier,
                )
            except (OAuthError, httpx.HTTPError, ValueError) as error:
                raise LoginFailed("The identity provider refused to complete the login.") from error
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise LoginFailed("The identity provider returned no ID token.")
        try:
            verified = await self._verifier.verify(id_token)
        except InvalidToken as error:
            raise LoginFailed(f"The ID token was refused: {error}") from error
        nonce = verified.claims.get("nonce")
        if not isinstance(nonce, str) or not hmac.compare_digest(nonce, pending.nonce):
            raise LoginFailed("The ID token does not answer this login (wrong nonce).")
        return verified


class _SharedTransport(httpx.AsyncBaseTransport):
    """Send the OAuth client's requests through the shared client (its transport and pool)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._client.send(request)
        await response.aread()
        return response

    async def aclose(self) -> None:
        """Leave the shared client open: its owner closes it."""
