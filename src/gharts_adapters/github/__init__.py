"""The GitHub adapter: GitHub App authentication and the runner REST API over httpx.

Build it with :func:`build_runner_platform` from :class:`GitHubSettings` and the process's shared
``httpx.AsyncClient``. The in-process GitHub simulator lives in
:mod:`gharts_adapters.github.simulator`.
"""

from gharts_adapters.github._auth import PROCESS_TOKEN_CACHE, TokenCache
from gharts_adapters.github.platform import GitHubRunnerPlatform, build_runner_platform
from gharts_adapters.github.scope import GitHubScope, ScopeKind
from gharts_adapters.github.settings import GitHubSettings, RetryPolicy, Timeouts

__all__ = [
    "PROCESS_TOKEN_CACHE",
    "GitHubRunnerPlatform",
    "GitHubScope",
    "GitHubSettings",
    "RetryPolicy",
    "ScopeKind",
    "Timeouts",
    "TokenCache",
    "build_runner_platform",
]
