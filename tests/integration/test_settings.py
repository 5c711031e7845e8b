"""Configuration loading: TOML, environment overrides, secrets and one line per problem."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gharts_core.drift import StuckProvisioningAction
from gharts_http.bootstrap import _drift_settings
from gharts_http.settings import (
    ConfigError,
    GitHubMode,
    IssuerKind,
    WebhookEnforcementMode,
    load_settings,
    settings_from_mapping,
)

SIMULATOR = {"github": {"mode": "simulator", "scope": "org:acme"}}


def test_defaults_are_the_embedded_ones() -> None:
    settings = settings_from_mapping(SIMULATOR, environ={})
    assert settings.database.url == "sqlite+aiosqlite:///./gharts.db"
    assert settings.sync.interval_seconds == 120
    assert settings.sync.webhook_enforcement is WebhookEnforcementMode.AUDIT
    assert settings.audit.retention_days == 365


def test_toml_file_is_read_with_issuers(tmp_path: Path) -> None:
    config = tmp_path / "gharts.toml"
    config.write_text(
        """
[github]
mode = "simulator"
scope = "repo:acme/widgets"

[[auth.issuers]]
issuer = "https://kubernetes.default.svc"
audiences = ["gharts"]
kind = "machine"
jwks_uri = "https://k8s-api.internal/openid/v1/jwks"

[auth]
bootstrap_admins = ["lead@example.com"]
""",
        encoding="utf-8",
    )
    settings = load_settings(config, environ={})
    assert settings.github.scope == "repo:acme/widgets"
    assert settings.auth.issuers[0].kind is IssuerKind.MACHINE
    assert settings.auth.issuers[0].audiences == ("gharts",)
    assert settings.auth.bootstrap_admins == ("lead@example.com",)


def test_environment_overrides_each_key_with_json_values() -> None:
    settings = settings_from_mapping(
        SIMULATOR,
        environ={
            "GHARTS_DATABASE__URL": "postgresql+asyncpg://gharts@db/gharts",
            "GHARTS_SYNC__INTERVAL_SECONDS": "30",
            "GHARTS_SYNC__DELETE_BUSY_DRIFTED": "true",
            "GHARTS_AUTH__BOOTSTRAP_ADMINS": '["a@example.com"]',
            "UNRELATED": "x",
        },
    )
    assert settings.database.url == "postgresql+asyncpg://gharts@db/gharts"
    assert settings.sync.interval_seconds == 30
    assert settings.sync.delete_busy_drifted is True
    assert settings.auth.bootstrap_admins == ("a@example.com",)


def test_app_mode_reads_secrets_from_files(tmp_path: Path) -> None:
    key = tmp_path / "app.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n")
    secret = tmp_path / "hook"
    secret.write_text("s3cret\n")
    settings = settings_from_mapping(
        {
            "github": {
                "mode": "app",
                "app_id": 1,
                "installation_id": 2,
                "private_key_path": str(key),
                "webhook_secret_path": str(secret),
            }
        },
        environ={},
    )
    assert settings.github.mode is GitHubMode.APP
    assert settings.github.private_key == key.read_text().strip()
    assert settings.github.webhook_secret == "s3cret"
    assert "s3cret" not in repr(settings)


def test_secrets_in_the_environment_are_taken_verbatim() -> None:
    settings = settings_from_mapping(
        {"github": {"mode": "app", "app_id": 1, "installation_id": 2}},
        environ={"GHARTS_GITHUB__PRIVATE_KEY": "123", "GHARTS_GITHUB__WEBHOOK_SECRET": "true"},
    )
    assert settings.github.private_key == "123"
    assert settings.github.webhook_secret == "true"


def test_secrets_in_the_file_are_refused() -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_mapping({"github": {"mode": "simulator", "webhook_secret": "x"}}, environ={})
    assert len(raised.value.problems) == 1
    assert raised.value.problems[0].startswith("github.webhook_secret: secrets are read from")


def test_every_problem_is_one_line() -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_mapping(
            {
                "github": {"mode": "app", "scope": "team:x"},
                "database": {"url": "mysql://x"},
                "sync": {"interval_seconds": 0},
            },
            environ={},
        )
    problems = raised.value.problems
    assert all("\n" not in line for line in problems)
    assert {line.split(":")[0] for line in problems} == {
        "github.app_id",
        "github.installation_id",
        "github.private_key_path",
        "github.scope",
        "database.url",
        "sync.interval_seconds",
    }


def test_unknown_keys_and_wrong_types_are_named() -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_mapping(
            {"github": {"mode": "simulator", "colour": "blue"}, "server": {"port": "eighty"}},
            environ={},
        )
    text = "\n".join(raised.value.problems)
    assert "colour" in text
    assert "server.port" in text


def test_unreadable_secret_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_mapping(
            {
                "github": {
                    "mode": "app",
                    "app_id": 1,
                    "installation_id": 2,
                    "private_key_path": str(tmp_path / "missing.pem"),
                }
            },
            environ={},
        )
    assert raised.value.problems[0].startswith("github.private_key_path: cannot read")


def test_missing_or_broken_config_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "absent.toml", environ={})
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\nport = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken, environ={})


def test_config_file_comes_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "custom.toml"
    config.write_text('[github]\nmode = "simulator"\nscope = "enterprise:big"\n')
    settings = load_settings(environ={"GHARTS_CONFIG": str(config)})
    assert settings.github.scope == "enterprise:big"


def test_scope_and_issuers_are_checked_as_the_adapters_check_them() -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_mapping(
            {
                "github": {"mode": "simulator", "scope": "repo:no-slash"},
                "auth": {
                    "issuers": [
                        {
                            "issuer": "https://ok.example/",
                            "audiences": ["a"],
                            "algorithms": ["HS256"],
                        },
                        {"issuer": "http://idp.example/", "audiences": ["a"]},
                    ]
                },
            },
            environ={},
        )
    fields = [line.split(":")[0] for line in raised.value.problems]
    assert ["github.scope", "auth.issuers[0]", "auth.issuers[1]"] == fields


def test_issuer_settings_become_the_identity_adapters_configuration() -> None:
    settings = settings_from_mapping(
        {
            **SIMULATOR,
            "auth": {
                "issuers": [
                    {"issuer": "https://idp.example/", "audiences": ["g"], "leeway_seconds": 5}
                ]
            },
        },
        environ={},
    )
    config = settings.auth.issuers[0].to_config()
    assert ("https://idp.example/", ("g",), 5.0) == (config.issuer, config.audiences, config.leeway)


def test_the_web_url_is_left_to_be_derived_from_the_api_url() -> None:
    assert settings_from_mapping(SIMULATOR, environ={}).github.web_url is None


def test_the_sync_grace_and_ttls_are_settings_that_reach_the_drift_detector() -> None:
    # Issue 12, finding 4: the grace was a hard-coded 10 minutes and offline runners held their
    # quota slot forever.
    defaults = _drift_settings(settings_from_mapping({}, environ={}, require_github=False))
    tuned = _drift_settings(
        settings_from_mapping(
            {
                "sync": {
                    "pending_ttl_seconds": 600,
                    "provisioning_grace_seconds": 30,
                    "stuck_provisioning_action": "adopt",
                    "offline_ttl_seconds": 0,
                }
            },
            environ={},
            require_github=False,
        )
    )

    assert (timedelta(hours=1), timedelta(minutes=2), timedelta(days=1)) == (
        defaults.pending_ttl,
        defaults.provisioning_grace,
        defaults.offline_ttl,
    )
    assert (timedelta(minutes=10), timedelta(seconds=30), StuckProvisioningAction.ADOPT, None) == (
        tuned.pending_ttl,
        tuned.provisioning_grace,
        tuned.stuck_provisioning_action,
        tuned.offline_ttl,
    )


def test_an_unknown_stuck_provisioning_action_is_named() -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_mapping(
            {"sync": {"stuck_provisioning_action": "keep"}}, environ={}, require_github=False
        )
    assert "stuck_provisioning_action" in "\n".join(raised.value.problems)


def test_sync_durations_out_of_range_are_each_one_problem() -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_mapping(
            {
                "sync": {
                    "pending_ttl_seconds": 0,
                    "provisioning_grace_seconds": -5,
                    "offline_ttl_seconds": -1,
                }
            },
            environ={},
            require_github=False,
        )
    assert {line.split(":")[0] for line in raised.value.problems} == {
        "sync.pending_ttl_seconds",
        "sync.provisioning_grace_seconds",
        "sync.offline_ttl_seconds",
    }
