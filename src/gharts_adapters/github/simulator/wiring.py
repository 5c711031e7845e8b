"""Wire the real adapter to an in-process simulator, written once for every user of it.

``github.mode = "simulator"`` (``gharts dev``, ``gharts serve``) builds its GitHub with
:func:`wire_simulator`; tests and benchmarks use :func:`simulated_github`, which also closes the
client and retries without waiting::

    async with simulated_github(scope="org:acme") as github:
        config = await github.platform.create_jit_config(request)
        github.simulator.set_online(config.runner.id)
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import attrs
import httpx
from joserfc.jwk import RSAKey

from gharts_adapters.github._auth import TokenCache
from gharts_adapters.github.platform import GitHubRunnerPlatform, build_runner_platform
from gharts_adapters.github.settings import GitHubSettings, RetryPolicy, Timeouts
from gharts_adapters.github.simulator.app import SimulatorApp, create_simulator_app
from gharts_adapters.github.simulator.lifecycle import DEFAULT_SCOPE
from gharts_adapters.github.simulator.state import GitHubSimulator
from gharts_core.ports.clock import Clock

#: Where the adapter believes GitHub is; the client's ASGI transport never leaves the process.
SIMULATED_API_URL = "https://api.github.test"
EventHooks = Mapping[str, Sequence[Callable[..., Awaitable[Any]]]]


@functools.cache
def app_key_pair() -> tuple[str, str]:
    """Return a GitHub App RSA key pair ``(private PEM, public PEM)``, made once per process."""
    key = RSAKey.generate_key(2048, private=True)
    return key.as_pem(private=True).decode(), key.as_pem(private=False).decode()


@attrs.frozen
class SimulatedGitHub:
    """A simulator, its ASGI app, and an adapter talking to it over ``client``."""

    simulator: GitHubSimulator
    app: SimulatorApp
    client: httpx.AsyncClient
    settings: GitHubSettings
    platform: GitHubRunnerPlatform


def wire_simulator(
    *,
    scope: str = DEFAULT_SCOPE,
    api_url: str = SIMULATED_API_URL,
    web_url: str | None = None,
    clock: Clock | None = None,
    retry: RetryPolicy | None = None,
    timeouts: Timeouts | None = None,
    rate_limit: int = 5000,
    app_id: int = 1001,
    installation_id: int = 2002,
    event_hooks: EventHooks | None = None,
    token_cache: TokenCache | None = None,
) -> SimulatedGitHub:
    """Return a new simulator and the adapter talking to it; the caller closes ``.client``.

    ``clock`` is shared by the simulator and the adapter; ``retry`` defaults to the adapter's
    own backoff, ``token_cache`` to its process-wide installation token cache.
    """
    private_pem, public_pem = app_key_pair()
    simulator = GitHubSimulator(
        app_id=app_id,
        installation_id=installation_id,
        app_public_key_pem=public_pem,
        default_scope=scope,
        clock=clock,
        rate_limit=rate_limit,
    )
    app = create_simulator_app(simulator)
    settings = GitHubSettings(
        scope=scope,
        app_id=app_id,
        installation_id=installation_id,
        private_key_pem=private_pem,
        api_url=api_url,
        web_url=web_url,
        retry=retry or RetryPolicy(),
        timeouts=timeouts or Timeouts(),
    )
    hooks = {name: list(functions) for name, functions in (event_hooks or {}).items()}
    # httpx types ASGI apps with plain mappings; Litestar's scope types are TypedDicts.
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    client = httpx.AsyncClient(transport=transport, base_url=api_url, event_hooks=hooks)
    platform = build_runner_platform(settings, client, clock=clock, token_cache=token_cache)
    return SimulatedGitHub(simulator, app, client, settings, platform)


@asynccontextmanager
async def simulated_github(
    *,
    scope: str = DEFAULT_SCOPE,
    api_url: str = SIMULATED_API_URL,
    clock: Clock | None = None,
    retry: RetryPolicy | None = None,
    timeouts: Timeouts | None = None,
    rate_limit: int = 5000,
    app_id: int = 1001,
    installation_id: int = 2002,
    event_hooks: EventHooks | None = None,
) -> AsyncIterator[SimulatedGitHub]:
    """Yield a :class:`SimulatedGitHub`; the client is closed on exit.

    Retries are immediate by default (no backoff waits) and the installation token cache is
    private to this adapter. ``clock`` is shared by the simulator and the adapter.
    """
    github = wire_simulator(
        scope=scope,
        api_url=api_url,
        clock=clock,
        retry=retry or RetryPolicy.immediate(),
        timeouts=timeouts,
        rate_limit=rate_limit,
        app_id=app_id,
        installation_id=installation_id,
        event_hooks=event_hooks,
        token_cache=TokenCache(),
    )
    async with github.client:
        yield github
