"""The dashboard's resolved configuration: ``[dashboard]`` with its secrets read and checked."""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import attrs

from gharts_adapters.identity import IssuerConfig
from gharts_http.settings import Settings

SESSION_COOKIE = "gharts_session"
LOGIN_COOKIE = "gharts_login"
CALLBACK_PATH = "/auth/callback"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secure_cookies(public_url: str) -> bool:
    """Whether cookies are ``Secure``: always, unless the public URL is plain http on loopback."""
    parts = urlsplit(public_url)
    return not (parts.scheme == "http" and _is_loopback(parts.hostname or ""))


@attrs.frozen(kw_only=True)
class DashboardConfig:
    """Everything the dashboard needs to run, from the settings."""

    public_url: str
    issuer: IssuerConfig = attrs.field(repr=False)
    client_id: str
    client_secret: str | None = attrs.field(repr=False)
    scopes: str
    session_secret: bytes = attrs.field(repr=False)
    session_ttl_seconds: int
    secure_cookies: bool

    @property
    def redirect_uri(self) -> str:
        """The login callback URL registered with the identity provider."""
        return self.public_url.rstrip("/") + CALLBACK_PATH

    @property
    def verifier_issuer(self) -> IssuerConfig:
        """The issuer's configuration with the dashboard's client id as the only audience."""
        return attrs.evolve(self.issuer, audiences=(self.client_id,))


def _read(path: str | None) -> str | None:
    return None if path is None else Path(path).read_text(encoding="utf-8").strip()


def dashboard_config(settings: Settings) -> DashboardConfig | None:
    """Return the dashboard's configuration, or ``None`` when it is disabled.

    The settings were checked at load time (the issuer is configured, the files exist).
    """
    dashboard = settings.dashboard
    if not dashboard.enabled or dashboard.issuer is None or dashboard.client_id is None:
        return None
    issuer = next(i for i in settings.auth.issuers if i.issuer == dashboard.issuer)
    session_secret = _read(dashboard.session_secret_path)
    return DashboardConfig(
        public_url=settings.server.public_url,
        issuer=issuer.to_config(),
        client_id=dashboard.client_id,
        client_secret=_read(dashboard.client_secret_path),
        scopes=dashboard.scopes,
        session_secret=(
            session_secret.encode("utf-8") if session_secret else secrets.token_bytes(32)
        ),
        session_ttl_seconds=dashboard.session_ttl_seconds,
        secure_cookies=secure_cookies(settings.server.public_url),
    )
