"""Scopes and settings: which REST paths and which ``config.sh --url`` each one means."""

from __future__ import annotations

import pytest

from gharts_adapters.github import GitHubScope, GitHubSettings, ScopeKind
from gharts_adapters.github.simulator.wiring import app_key_pair


@pytest.mark.parametrize(
    ("text", "kind", "path"),
    [
        ("org:acme", ScopeKind.ORG, "/orgs/acme/actions/runners"),
        ("repo:acme/api.v2", ScopeKind.REPO, "/repos/acme/api.v2/actions/runners"),
        ("enterprise:big-corp", ScopeKind.ENTERPRISE, "/enterprises/big-corp/actions/runners"),
    ],
)
def test_scope_parses_into_its_runners_path(text: str, kind: ScopeKind, path: str) -> None:
    scope = GitHubScope.parse(text)

    assert (kind, path, text) == (scope.kind, scope.runners_path, str(scope))


@pytest.mark.parametrize(
    "text",
    ["acme", "team:acme", "org:", "org:acme/api", "repo:acme", "repo:acme/..", "org:-acme",
     "repo:a/b/c", "enterprise:big corp", "org:acme?x=1"],
)  # fmt: skip
def test_malformed_scope_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="GitHub scope"):
        GitHubScope.parse(text)


@pytest.mark.parametrize(
    ("scope", "api_url", "expected"),
    [
        ("org:acme", "https://api.github.com", "https://github.com/acme"),
        ("repo:acme/api", "https://api.github.com/", "https://github.com/acme/api"),
        ("enterprise:corp", "https://api.github.com", "https://github.com/enterprises/corp"),
        ("org:acme", "https://ghes.example.com/api/v3", "https://ghes.example.com/acme"),
    ],
)
def test_registration_url_follows_the_github_instance(
    scope: str, api_url: str, expected: str
) -> None:
    settings = GitHubSettings(
        scope=scope, app_id=1, installation_id=2, private_key_pem=app_key_pair()[0], api_url=api_url
    )

    assert expected == settings.registration_url


def test_settings_refuse_something_that_is_not_a_private_key() -> None:
    with pytest.raises(ValueError, match="PEM"):
        GitHubSettings(scope="org:acme", app_id=1, installation_id=2, private_key_pem="hunter2")


def test_settings_never_show_the_private_key() -> None:
    settings = GitHubSettings(
        scope="org:acme", app_id=1, installation_id=2, private_key_pem=app_key_pair()[0]
    )

    assert "PRIVATE" not in repr(settings)
