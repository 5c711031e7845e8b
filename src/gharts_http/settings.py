"""Configuration: one TOML file, overridden key by key from the environment.

``GHARTS_CONFIG`` names the file (default ``./gharts.toml`` when present). Every key can be
overridden by ``GHARTS_<SECTION>__<KEY>`` (``GHARTS_DATABASE__URL``); values that parse as JSON
(numbers, booleans, lists, ``null``) are taken as such, anything else as a string. Secrets (the
GitHub App private key, the webhook secret) come from ``*_path`` files or from the environment
(``GHARTS_GITHUB__PRIVATE_KEY``, ``GHARTS_GITHUB__WEBHOOK_SECRET``), never from the TOML file.
Bad configuration raises :class:`ConfigError` with one line per problem.
"""

from __future__ import annotations

import enum
import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError

from gharts_adapters.github import GitHubScope
from gharts_adapters.identity.config import DEFAULT_ALGORITHMS, IssuerConfig, IssuerKind

ENV_PREFIX = "GHARTS_"
DEFAULT_CONFIG_FILE = "gharts.toml"
_SECRET_KEYS = {("github", "private_key"), ("github", "webhook_secret")}


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` has one human line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class GitHubMode(enum.StrEnum):
    """Whether gharts talks to GitHub or to its built-in simulator."""

    APP = "app"
    SIMULATOR = "simulator"


class WebhookEnforcementMode(enum.StrEnum):
    """What a webhook re-check does with a job on a runner whose labels the policy now refuses."""

    AUDIT = "audit"
    ENFORCE = "enforce"


class StuckProvisioningMode(enum.StrEnum):
    """What the sync worker does with a stuck ``provisioning`` row whose runner GitHub has."""

    REMOVE = "remove"
    ADOPT = "adopt"


@attrs.frozen
class ServerSettings:
    """The HTTP listener."""

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = 1_048_576
    provision_rate_per_minute: int = 120
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed; none by default.
    forwarded_allow_ips: tuple[str, ...] = ()


@attrs.frozen
class DatabaseSettings:
    """Where runner records, users, teams and the audit log live."""

    url: str = "sqlite+aiosqlite:///./gharts.db"
    # How long a request waits for SQLite's write lock before 503 SERVICE_UNAVAILABLE.
    sqlite_busy_timeout_seconds: float = 5.0


@attrs.frozen
class GitHubSettings:
    """The GitHub App (or the simulator) gharts provisions runners with."""

    mode: GitHubMode = GitHubMode.APP
    scope: str = "org:my-org"
    api_url: str = "https://api.github.com"
    web_url: str | None = None  # derived from api_url (github.com, or the GHES host)
    app_id: int | None = None
    installation_id: int | None = None
    private_key_path: str | None = None
    webhook_secret_path: str | None = None
    private_key: str | None = attrs.field(default=None, repr=False)
    webhook_secret: str | None = attrs.field(default=None, repr=False)


@attrs.frozen
class IssuerSettings:
    """One trusted token issuer."""

    issuer: str
    audiences: tuple[str, ...]
    kind: IssuerKind = IssuerKind.AUTO
    jwks_uri: str | None = None
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    user_claim: str = "email"
    leeway_seconds: int = 60
    trust_email: bool = False
    ca_bundle_path: str | None = None
    jwks_bearer_token_path: str | None = None

    def to_config(self) -> IssuerConfig:
        """Return the identity adapter's configuration; ``ValueError`` names a bad value."""
        return IssuerConfig(
            issuer=self.issuer,
            audiences=self.audiences,
            jwks_uri=self.jwks_uri,
            algorithms=self.algorithms,
            kind=self.kind,
            user_claim=self.user_claim,
            leeway=float(self.leeway_seconds),
            trust_email=self.trust_email,
            ca_bundle_path=self.ca_bundle_path,
            jwks_bearer_token_path=self.jwks_bearer_token_path,
        )


@attrs.frozen
class AuthSettings:
    """Trusted issuers and the first admins."""

    issuers: tuple[IssuerSettings, ...] = ()
    bootstrap_admins: tuple[str, ...] = ()


@attrs.frozen
class SyncSettingsSection:
    """The reconciliation loop."""

    interval_seconds: int = 120
    pending_ttl_seconds: int = 3600
    provisioning_grace_seconds: int = 120
    stuck_provisioning_action: StuckProvisioningMode = StuckProvisioningMode.REMOVE
    offline_ttl_seconds: int = 86_400  # 0: offline runners are never removed
    delete_busy_drifted: bool = False
    webhook_enforcement: WebhookEnforcementMode = WebhookEnforcementMode.AUDIT


@attrs.frozen
class AuditSettings:
    """Audit log retention."""

    retention_days: int = 365


@attrs.frozen
class DashboardSettings:
    """The web dashboard: people log in with OIDC (authorization code with PKCE)."""

    enabled: bool = False
    issuer: str | None = None  # one of [[auth.issuers]]
    client_id: str | None = None
    client_secret_path: str | None = None  # absent: a public client (PKCE only)
    scopes: str = "openid email profile"
    session_secret_path: str | None = None  # absent: a random secret per process
    session_ttl_seconds: int = 28_800


@attrs.frozen
class Settings:
    """The whole configuration."""

    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    github: GitHubSettings = GitHubSettings()
    auth: AuthSettings = AuthSettings()
    sync: SyncSettingsSection = SyncSettingsSection()
    audit: AuditSettings = AuditSettings()
    dashboard: DashboardSettings = DashboardSettings()


_converter = cattrs.Converter(forbid_extra_keys=True)


def _env_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        if not section or not key:
            continue
        value = raw if (section, key) in _SECRET_KEYS else _env_value(raw)
        data.setdefault(section, {})[key] = value


def _read_secret(path: str, what: str, problems: list[str]) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        problems.append(f"github.{what}_path: cannot read {path}: {error.strerror}")
        return None


def _load_secrets(settings: Settings, problems: list[str]) -> Settings:
    github = settings.github
    key, secret = github.private_key, github.webhook_secret
    if key is None and github.private_key_path:
        key = _read_secret(github.private_key_path, "private_key", problems)
    if secret is None and github.webhook_secret_path:
        secret = _read_secret(github.webhook_secret_path, "webhook_secret", problems)
    return attrs.evolve(
        settings, github=attrs.evolve(github, private_key=key, webhook_secret=secret)
    )


def _check(settings: Settings, *, require_github: bool) -> list[str]:
    problems: list[str] = []
    github = settings.github
    if require_github and github.mode is GitHubMode.APP:
        problems.extend(
            f'github.{name}: required when github.mode = "app"'
            for name, value in (
                ("app_id", github.app_id),
                ("installation_id", github.installation_id),
            )
            if value is None
        )
        if not github.private_key:
            problems.append(
                'github.private_key_path: required when github.mode = "app" '
                "(or set GHARTS_GITHUB__PRIVATE_KEY)"
            )
    try:
        GitHubScope.parse(github.scope)
    except ValueError as error:
        problems.append(f"github.scope: {error}")
    if not settings.database.url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        problems.append(
            "database.url: use sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db"
        )
    for index, issuer in enumerate(settings.auth.issuers):
        try:
            issuer.to_config()
        except ValueError as error:
            problems.append(f"auth.issuers[{index}]: {error}")
    problems.extend(_dashboard_problems(settings))
    for name, value in (
        ("server.port", settings.server.port),
        ("database.sqlite_busy_timeout_seconds", settings.database.sqlite_busy_timeout_seconds),
        ("sync.interval_seconds", settings.sync.interval_seconds),
        ("sync.pending_ttl_seconds", settings.sync.pending_ttl_seconds),
        ("sync.provisioning_grace_seconds", settings.sync.provisioning_grace_seconds),
        ("audit.retention_days", settings.audit.retention_days),
    ):
        if value <= 0:
            problems.append(f"{name}: must be positive (got {value})")
    if settings.sync.offline_ttl_seconds < 0:
        offline = settings.sync.offline_ttl_seconds
        problems.append(f"sync.offline_ttl_seconds: must be 0 (never) or positive (got {offline})")
    return problems


def _dashboard_problems(settings: Settings) -> list[str]:
    dashboard = settings.dashboard
    if not dashboard.enabled:
        return []
    problems: list[str] = []
    issuers = [issuer.issuer for issuer in settings.auth.issuers]
    if dashboard.issuer not in issuers:
        problems.append(f"dashboard.issuer: must be one of auth.issuers (got {dashboard.issuer!r})")
    if not dashboard.client_id:
        problems.append("dashboard.client_id: required when dashboard.enabled = true")
    if "openid" not in dashboard.scopes.split():
        problems.append(f"dashboard.scopes: must include openid (got {dashboard.scopes!r})")
    if dashboard.session_ttl_seconds <= 0:
        problems.append(
            f"dashboard.session_ttl_seconds: must be positive (got {dashboard.session_ttl_seconds})"
        )
    for name in ("client_secret_path", "session_secret_path"):
        path = getattr(dashboard, name)
        if path is not None and not Path(path).is_file():
            problems.append(f"dashboard.{name}: cannot read {path}")
    return problems


def _structure_problems(error: Exception) -> list[str]:
    if isinstance(error, ClassValidationError | ForbiddenExtraKeysError):
        return [line.replace("$.", "", 1) for line in cattrs.transform_error(error, path="$")]
    return [str(error)]


def settings_from_mapping(
    data: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    *,
    require_github: bool = True,
) -> Settings:
    """Build settings from parsed TOML data and environment overrides; raise ``ConfigError``.

    ``require_github=False`` skips the GitHub App credential checks, for commands such as
    ``gharts db upgrade`` that never talk to GitHub.
    """
    in_file = [
        f"{section}.{key}: secrets are read from {section}.{key}_path or "
        f"{ENV_PREFIX}{section.upper()}__{key.upper()}, never from the configuration file"
        for section, key in sorted(_SECRET_KEYS)
        if isinstance(data.get(section), Mapping) and key in data[section]
    ]
    if in_file:
        raise ConfigError(in_file)
    merged: dict[str, Any] = {
        section: dict(values) if isinstance(values, Mapping) else values
        for section, values in data.items()
    }
    _apply_env(merged, os.environ if environ is None else environ)
    try:
        settings = _converter.structure(merged, Settings)
    except Exception as error:
        raise ConfigError(_structure_problems(error)) from error
    problems: list[str] = []
    settings = _load_secrets(settings, problems)
    problems.extend(_check(settings, require_github=require_github))
    if problems:
        raise ConfigError(problems)
    return settings


def load_settings(
    path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    require_github: bool = True,
) -> Settings:
    """Load ``path`` (or ``$GHARTS_CONFIG``, or ``./gharts.toml`` when present) plus overrides."""
    env = os.environ if environ is None else environ
    chosen = path or env.get("GHARTS_CONFIG")
    if chosen is None and Path(DEFAULT_CONFIG_FILE).exists():
        chosen = DEFAULT_CONFIG_FILE
    data: dict[str, Any] = {}
    if chosen is not None:
        try:
            data = tomllib.loads(Path(chosen).read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(
                [f"{chosen}: cannot read the configuration file: {error.strerror}"]
            ) from error
        except tomllib.TOMLDecodeError as error:
            raise ConfigError([f"{chosen}: not valid TOML: {error}"]) from error
    return settings_from_mapping(data, env, require_github=require_github)
