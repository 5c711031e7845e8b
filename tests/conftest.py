"""Suite-wide configuration: Hypothesis profiles (`ci` and `dev`), the real OIDC provider."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from gharts_adapters.storage import upgrade
from tests.oidc_support import OidcProvider, running_provider
from tests.postgres import require_postgres, temporary_database

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile("dev")


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """Start the real OIDC provider once per session (Node.js; see ``oidc_support``)."""
    with running_provider(tmp_path_factory.mktemp("oidc-provider")) as provider:
        yield provider


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, for tests to copy."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[str]:
    """A throwaway PostgreSQL database migrated to head; tests empty it before use."""
    require_postgres()
    with temporary_database() as url:
        upgrade(url)
        yield url
