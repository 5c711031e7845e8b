"""``gharts serve`` serves the dashboard beside the API when, and only when, it is enabled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from gharts_http.bootstrap import bootstrap
from gharts_http.cli.run import app_for
from gharts_http.settings import ConfigError, settings_from_mapping

ISSUER = "https://login.example.test/"


def _settings(sqlite_url: str, **dashboard: Any) -> Any:
    data = {
        "database": {"url": sqlite_url},
        "github": {"mode": "simulator", "scope": "org:acme"},
        "auth": {"issuers": [{"issuer": ISSUER, "audiences": ["gharts"]}]},
        "dashboard": dashboard,
    }
    return settings_from_mapping(data, environ={})


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "gharts.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite+aiosqlite:///{path}"


async def test_an_enabled_dashboard_sends_visitors_to_the_login(sqlite_url: str) -> None:
    settings = _settings(sqlite_url, enabled=True, issuer=ISSUER, client_id="dash")
    services = bootstrap(settings)
    try:
        async with AsyncTestClient(app_for(services)) as http:
            home = await http.get("/", follow_redirects=False)
            style = await http.get("/static/dashboard.css")
            api = await http.get("/api/v1/runners")
    finally:
        await services.aclose()
    assert 303 == home.status_code
    assert "/login?next=%2F" == home.headers["location"]
    assert 200 == style.status_code
    assert "nosniff" == style.headers["x-content-type-options"]
    assert 401 == api.status_code  # the API is unchanged beside it


async def test_a_disabled_dashboard_leaves_the_root_to_the_api(sqlite_url: str) -> None:
    services = bootstrap(_settings(sqlite_url))
    try:
        async with AsyncTestClient(app_for(services)) as http:
            home = await http.get("/", follow_redirects=False)
    finally:
        await services.aclose()
    assert 404 == home.status_code
    assert "NOT_FOUND" == home.json()["error_code"]


@pytest.mark.parametrize(
    ("dashboard", "problem"),
    [
        ({"issuer": "https://elsewhere.example/", "client_id": "d"}, "dashboard.issuer"),
        ({"issuer": ISSUER}, "dashboard.client_id"),
        ({"issuer": ISSUER, "client_id": "d", "scopes": "email"}, "dashboard.scopes"),
        ({"issuer": ISSUER, "client_id": "d", "session_ttl_seconds": 0}, "dashboard.session_ttl"),
        (
            {"issuer": ISSUER, "client_id": "d", "session_secret_path": "/nonexistent/secret"},
            "dashboard.session_secret_path",
        ),
    ],
)
def test_a_bad_dashboard_configuration_is_one_line_per_problem(
    sqlite_url: str, dashboard: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        _settings(sqlite_url, enabled=True, **dashboard)
    assert [p for p in refused.value.problems if p.startswith(problem)]
