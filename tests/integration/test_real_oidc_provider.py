"""The app trusting a real OpenID provider: ARC-style machine tokens from panva/oidc-provider.

The provider runs as a Node.js process (``oidc_provider`` fixture); gharts discovers its JWKS
over HTTP like it would an Auth0 or Keycloak tenant.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gharts_adapters.identity import IssuerConfig, IssuerKind
from tests.integration.api_support import Api, bearer, running_api
from tests.oidc_support import OidcProvider

pytestmark = pytest.mark.node


@pytest.fixture
async def api(sqlite_url: str, oidc_provider: OidcProvider) -> AsyncIterator[Api]:
    """The app trusting the dev issuer (for the admin) and the real provider (machines)."""
    provider = IssuerConfig(
        issuer=oidc_provider.issuer,
        audiences=(oidc_provider.audience,),
        kind=IssuerKind.MACHINE,
    )
    async with running_api(sqlite_url, trust=[provider]) as running:
        yield running


async def test_a_registered_provider_client_provisions_lists_and_deletes(
    api: Api, oidc_provider: OidcProvider
) -> None:
    """A client-credentials token from the provider works end to end for its team."""
    await api.seed_team("ml", max_runners=2)
    await api.seed_client(oidc_provider.client_id, "ml", issuer=oidc_provider.issuer)
    ci = bearer(await oidc_provider.client_credentials_token())

    created = await api.provision(ci, ["gpu-a100"], runner_name_prefix="arc")
    listed = await api.call("GET", "/api/v1/runners", ci, expect=200)
    runner_id = created.json()["runner_id"]
    deleted = await api.call("DELETE", f"/api/v1/runners/{runner_id}", ci, expect=200)

    assert (201, "ml") == (created.status_code, created.json()["team_name"])
    assert [runner_id] == [runner["runner_id"] for runner in listed.json()["runners"]]
    assert "deleted" == deleted.json()["status"]


async def test_a_provider_token_for_another_audience_is_refused(
    api: Api, oidc_provider: OidcProvider
) -> None:
    """A token the provider minted for another resource server is a 401, not a runner."""
    await api.seed_team("ml")
    await api.seed_client(oidc_provider.client_id, "ml", issuer=oidc_provider.issuer)
    elsewhere = bearer(await oidc_provider.client_credentials_token("https://elsewhere.test"))

    response = await api.provision(elsewhere, ["gpu-a100"])

    assert (401, "INVALID_TOKEN") == (response.status_code, response.json()["error_code"])


async def test_an_unregistered_provider_client_is_not_authorized(
    api: Api, oidc_provider: OidcProvider
) -> None:
    """A valid token of a client no admin registered gets USER_NOT_AUTHORIZED."""
    await api.seed_team("ml")
    ci = bearer(await oidc_provider.client_credentials_token())

    response = await api.call("GET", "/api/v1/auth/me", ci)

    assert (403, "USER_NOT_AUTHORIZED") == (response.status_code, response.json()["error_code"])
