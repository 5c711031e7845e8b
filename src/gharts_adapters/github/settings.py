"""How the GitHub adapter is configured: scope, endpoint, app credentials, timeouts, retries."""

from __future__ import annotations

import attrs

from gharts_adapters.github.scope import GitHubScope, web_url_for


def _scope(value: GitHubScope | str) -> GitHubScope:
    return value if isinstance(value, GitHubScope) else GitHubScope.parse(value)


def _strip_slash(url: str) -> str:
    return url.rstrip("/")


def _pem(_instance: object, _attribute: attrs.Attribute[str], value: str) -> None:
    if "PRIVATE KEY-----" not in value:
        raise ValueError("private_key_pem must be a PEM-encoded private key")


@attrs.frozen
class Timeouts:
    """Per-request limits in seconds; ``read`` also bounds each whole request."""

    connect: float = 5.0
    read: float = 15.0

    @property
    def total(self) -> float:
        """The deadline of one attempt, whatever the transport."""
        return self.connect + self.read


@attrs.frozen
class RetryPolicy:
    """Jittered exponential backoff for idempotent calls (see :func:`stamina.retry_context`)."""

    attempts: int = 4
    timeout: float = 60.0
    wait_initial: float = 0.5
    wait_max: float = 8.0
    wait_jitter: float = 1.0

    @classmethod
    def immediate(cls, attempts: int = 3) -> RetryPolicy:
        """Retry without waiting: for tests and benchmarks."""
        return cls(attempts=attempts, wait_initial=0.0, wait_max=0.0, wait_jitter=0.0)


@attrs.frozen
class GitHubSettings:
    """Everything the adapter needs: which runners, where GitHub is, and the app's identity."""

    scope: GitHubScope = attrs.field(converter=_scope)
    app_id: int
    installation_id: int
    private_key_pem: str = attrs.field(repr=False, validator=_pem)
    api_url: str = attrs.field(default="https://api.github.com", converter=_strip_slash)
    web_url: str | None = None
    timeouts: Timeouts = Timeouts()
    retry: RetryPolicy = RetryPolicy()
    user_agent: str = "gharts"

    @property
    def registration_url(self) -> str:
        """The ``config.sh --url`` of the scope on this GitHub instance."""
        return self.scope.registration_url(self.web_url or web_url_for(self.api_url))
