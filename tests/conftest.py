"""Suite-wide configuration: Hypothesis profiles (`ci` and `dev`), the real OIDC provider."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from oidc_support import OidcProvider, running_provider

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
