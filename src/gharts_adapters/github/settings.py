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
    """Limits in seconds: ``read`` bounds each request, ``jit_call`` a whole JIT call.

    ``jit_call`` covers ``create_jit_config`` with its token fetch and retries.

    ``jit_call`` is under the Go client's 30 s, so a caller hears the 502 rather than its own
    timeout, and well under ``sync.provisioning_grace_seconds`` (120 s), so no worker judges a
    reservation stuck while its call is still in flight.
    """

    connect: float = 5.0
    read: float = 15.0
    jit_call: float = 25.0

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


def longest_retried(policy: RetryPolicy, one_try: float) -> float:
    """Return the most seconds a call retried by ``policy`` takes, each try taking ``one_try``.

    stamina waits ``min(wait_max, wait_initial * 2**(n-1) + jitter)`` before retry ``n`` and
    stops after ``attempts`` tries or once a try fails ``timeout`` seconds after the first began,
    so the last try starts before ``timeout`` plus the longest wait.
    """
    waits = [
        min(policy.wait_max, policy.wait_initial * 2.0 ** (n - 1) + policy.wait_jitter)
        for n in range(1, policy.attempts)
    ]
    by_attempts = policy.attempts * one_try + sum(waits)
    by_deadline = policy.timeout + max(waits, default=0.0) + one_try
    return min(by_attempts, by_deadline)


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
    def longest_jit_call(self) -> float:
        """Return the most seconds ``create_jit_config`` can take, given the timeouts and retries.

        One try is bounded by :attr:`Timeouts.total`. An installation token may be fetched first
        (an idempotent call, retried by :attr:`retry`), and a cached token GitHub refuses costs
        one more fetch and one more try, so one attempt costs at most twice a fetch and a try.
        Attempts are retried by :attr:`retry` (only while the request never left). The whole
        call is cut at :attr:`Timeouts.jit_call`. A ``provisioning`` row older than this is in
        flight in no process: its call has ended.
        """
        one_try = self.timeouts.total
        token = longest_retried(self.retry, one_try)
        return min(self.timeouts.jit_call, longest_retried(self.retry, 2 * (token + one_try)))

    @property
    def registration_url(self) -> str:
        """The ``config.sh --url`` of the scope on this GitHub instance."""
        return self.scope.registration_url(self.web_url or web_url_for(self.api_url))
