"""The HTTP app on real adapters, for integration tests: SQLite or PostgreSQL, the GitHub
simulator, and a development issuer served in process.

Import it as ``tests.integration.api_support``::

    async def test_something(api: Api) -> None:
        response = await api.http.get("/api/v1/auth/me", headers=api.as_admin())

``api.as_user(email)`` and ``api.as_machine(client_id)`` return ``Authorization`` headers with
tokens from the development issuer; ``api.seed_team(...)`` and friends create data through the
admin API so that the tests exercise the same paths an operator does.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import attrs
import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from gharts_adapters.github.simulator import GitHubSimulator
from gharts_adapters.identity import DevIssuer, IssuerConfig, JwtVerifier
from gharts_core.ports.clock import Clock
from gharts_http.api.app import create_app
from gharts_http.bootstrap import Services, bootstrap
from gharts_http.settings import settings_from_mapping

ISSUER_URL = "https://issuer.test/dev/oidc"
ADMIN_EMAIL = "admin@example.com"
SCOPE = "org:acme"
Headers = dict[str, str]


def bearer(token: str) -> Headers:
    """Return the ``Authorization`` header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


@attrs.define
class Api:
    """A running app, its services and the issuer that mints its tokens."""

    app: Litestar
    http: AsyncTestClient[Litestar]
    services: Services
    issuer: DevIssuer

    @property
    def simulator(self) -> GitHubSimulator:
        """The in-process GitHub behind the app."""
        assert self.services.simulator is not None
        return self.services.simulator

    def as_user(self, email: str) -> Headers:
        """Headers of a person with a verified ``email``."""
        return bearer(self.issuer.mint_user_token(email))

    def as_admin(self) -> Headers:
        """Headers of the bootstrap admin."""
        return self.as_user(ADMIN_EMAIL)

    def as_machine(self, client_id: str) -> Headers:
        """Headers of a machine client whose subject is ``client_id``."""
        return bearer(self.issuer.mint_machine_token(client_id))

    async def call(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        *,
        expect: int | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request; with ``expect``, assert the status (showing the body if not)."""
        response = await self.http.request(method, path, headers=dict(headers or {}), **kwargs)
        if expect is not None:
            assert expect == response.status_code, response.text
        return response

    async def seed_team(self, name: str = "alpha", **fields: Any) -> dict[str, Any]:
        """Create a team through the admin API; defaults: label ``linux``, pattern ``gpu-.*``."""
        body = {
            "name": name,
            "required_labels": ["team-alpha"],
            "optional_label_patterns": ["gpu-.*", "size-(small|large)"],
            **fields,
        }
        response = await self.call(
            "POST", "/api/v1/admin/teams", self.as_admin(), json=body, expect=201
        )
        result: dict[str, Any] = response.json()
        return result

    async def seed_user(self, email: str, *teams: str, **fields: Any) -> dict[str, Any]:
        """Create a user in ``teams`` through the admin API."""
        name = email.partition("@")[0]
        body = {"email": email, "display_name": name, "teams": list(teams), **fields}
        response = await self.call(
            "POST", "/api/v1/admin/users", self.as_admin(), json=body, expect=201
        )
        result: dict[str, Any] = response.json()
        return result

    async def seed_client(self, subject: str, team: str, **fields: Any) -> dict[str, Any]:
        """Register a machine client of ``team`` through the admin API."""
        body = {"issuer": self.issuer.issuer, "subject": subject, "team": team, **fields}
        response = await self.call(
            "POST", "/api/v1/admin/clients", self.as_admin(), json=body, expect=201
        )
        result: dict[str, Any] = response.json()
        return result

    async def warmed_machine(self, subject: str, team: str) -> Headers:
        """A new team's machine client, after one provision: its principal and statements cached.

        For tests that count what a warmed-up caller's request costs.
        """
        await self.seed_team(team)
        await self.seed_client(subject, team)
        machine = self.as_machine(subject)
        first = await self.provision(machine)
        assert 201 == first.status_code, first.text
        return machine

    async def provision(
        self, headers: Mapping[str, str], labels: list[str] | None = None, **fields: Any
    ) -> httpx.Response:
        """``POST /api/v1/runners/jit`` with a random prefix unless a name is given."""
        body: dict[str, Any] = {"labels": labels if labels is not None else ["gpu-a100"], **fields}
        if "runner_name" not in body:
            body.setdefault("runner_name_prefix", f"r-{uuid.uuid4().hex[:6]}")
        return await self.call("POST", "/api/v1/runners/jit", headers, json=body)


def settings_for(database_url: str, **sections: Mapping[str, Any]) -> Any:
    """Settings for the simulator and ``database_url``; ``sections`` override whole keys."""
    data: dict[str, Any] = {
        "database": {"url": database_url},
        "github": {"mode": "simulator", "scope": SCOPE},
        "auth": {"bootstrap_admins": [ADMIN_EMAIL]},
    }
    for section, values in sections.items():
        data[section] = {**data.get(section, {}), **values}
    return settings_from_mapping(data, environ={})


class _IssuersTransport(httpx.AsyncBaseTransport):
    """The dev issuer's documents in process; every other issuer over the real network."""

    def __init__(self, issuer: DevIssuer) -> None:
        self._prefix = issuer.issuer.rstrip("/") + "/"
        self._dev = issuer.transport()
        self._network = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Route ``request`` to the dev issuer or to the network."""
        if str(request.url).startswith(self._prefix):
            return await self._dev.handle_async_request(request)
        return await self._network.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the network transport."""
        await self._network.aclose()


@asynccontextmanager
async def running_api(
    database_url: str,
    *,
    clock: Clock | None = None,
    trust: Sequence[IssuerConfig] = (),
    **sections: Mapping[str, Any],
) -> AsyncIterator[Api]:
    """Run the app on a migrated database at ``database_url``; close everything afterwards.

    The app trusts the development issuer and the issuers of ``trust`` (reached over the
    network, e.g. the real OIDC provider).
    """
    issuer = DevIssuer(ISSUER_URL, clock=clock)
    identity_client = httpx.AsyncClient(transport=_IssuersTransport(issuer))
    verifier = JwtVerifier([issuer.issuer_config(), *trust], identity_client, clock=clock)
    services = bootstrap(settings_for(database_url, **sections), identity=verifier, clock=clock)
    try:
        # Close the store and the issuers' connections in the app's event loop (the test
        # client's portal), where they were opened; closing again below is a no-op.
        app = create_app(services, on_shutdown=[services.aclose, identity_client.aclose])
        async with AsyncTestClient(app, base_url="http://gharts.test") as http:
            yield Api(app, http, services, issuer)
    finally:
        await services.aclose()
        await identity_client.aclose()
