"""The service-account path end to end: gharts.toml trusts a cluster's issuer (its CA bundle, a
reader token for its JWKS), and a token with ``sub = system:serviceaccount:arc-systems:
arc-controller`` provisions as the machine client an admin registered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from gharts_core.model import Principal
from gharts_core.services.admin_clients import CreateClient
from gharts_core.services.admin_teams import CreateTeam
from gharts_http.api.app import create_app
from gharts_http.bootstrap import Services, bootstrap
from gharts_http.settings import ConfigError, settings_from_mapping
from tests.contract.identity.tls_issuer import JWKS_PATH, TlsIssuer, tls_issuer
from tests.integration.api_support import SCOPE, bearer

ARC_SUBJECT = "system:serviceaccount:arc-systems:arc-controller"
TEAM = "arc-runners"


def settings_data(database_url: str, issuer: dict[str, Any]) -> dict[str, Any]:
    """gharts.toml as parsed: the simulator, the database, and one trusted issuer."""
    return {
        "database": {"url": database_url},
        "github": {"mode": "simulator", "scope": SCOPE},
        "auth": {"issuers": [issuer]},
    }


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[TlsIssuer]:
    with tls_issuer(tmp_path) as issuer:
        yield issuer


async def register_arc(services: Services, issuer: str) -> None:
    """An admin's set-up: the team of the scale set and ARC's service account as its client."""
    system = Principal.system()
    await services.teams.create_team(
        system, CreateTeam(name=TEAM, required_labels=("arc",), optional_label_patterns=("k8s",))
    )
    await services.clients.create_client(
        system, CreateClient(issuer=issuer, subject=ARC_SUBJECT, team=TEAM, description="ARC")
    )


async def test_a_service_account_token_of_the_cluster_provisions_a_runner(
    cluster: TlsIssuer, sqlite_url: str
) -> None:
    """The issuer comes from the settings loader, so the TOML keys themselves are exercised."""
    settings = settings_from_mapping(
        settings_data(sqlite_url, cluster.settings_table()), environ={}
    )
    services = bootstrap(settings)
    await register_arc(services, cluster.url)
    token = cluster.service_account_token("arc-systems", "arc-controller")
    app = create_app(services, on_shutdown=[services.aclose])
    async with AsyncTestClient(app, base_url="http://gharts.test") as http:
        response = await http.post(
            "/api/v1/runners/jit",
            headers=bearer(token),
            json={"team_name": TEAM, "runner_name_prefix": "arc", "labels": ["k8s"]},
        )
        other = await http.post(
            "/api/v1/runners/jit",
            headers=bearer(cluster.service_account_token("default", "builder")),
            json={"runner_name_prefix": "arc", "labels": ["k8s"]},
        )

    assert 201 == response.status_code, response.text
    assert (TEAM, ["arc", "k8s"]) == (response.json()["team_name"], response.json()["labels"])
    assert [f"Bearer {cluster.accepted_token}"] == cluster.authorizations(JWKS_PATH)
    assert (403, "USER_NOT_AUTHORIZED") == (other.status_code, other.json()["error_code"])


def test_a_missing_ca_bundle_stops_start_up_with_one_line(
    cluster: TlsIssuer, sqlite_url: str, tmp_path: Path
) -> None:
    """The settings loader names the issuer table and the file."""
    table = cluster.settings_table() | {"ca_bundle_path": str(tmp_path / "missing.pem")}

    with pytest.raises(ConfigError) as refused:
        settings_from_mapping(settings_data(sqlite_url, table), environ={})

    [line] = refused.value.problems
    assert line.startswith("auth.issuers[0]: issuer ")
    assert "missing.pem" in line
