"""Which database a command uses without configuration, and the hint when it does not answer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gharts_http.cli.locate import masked_url
from gharts_http.cli.main import EXIT_FAILED, EXIT_OK
from tests.integration.cli_harness import Cli, clean_environment, write_config

NOTICE = (
    "gharts: no configuration found; using the gharts dev database .gharts-dev/gharts.db "
    "(give --config to use another)\n"
)


@pytest.fixture
def here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    """``gharts`` run in an empty directory with no configuration and no GHARTS_* variable."""
    clean_environment(monkeypatch)
    work = tmp_path / "checkout"
    work.mkdir()
    monkeypatch.chdir(work)
    return Cli(work / "gharts.toml", "", capsys)


def dev_database(sqlite_url: str, here: Cli) -> Path:
    """Put a migrated database where ``gharts dev`` keeps it."""
    target = here.config.parent / ".gharts-dev" / "gharts.db"
    target.parent.mkdir()
    shutil.copyfile(sqlite_url.removeprefix("sqlite+aiosqlite:///"), target)
    return target


def test_the_dev_database_is_used_and_named_on_stderr(sqlite_url: str, here: Cli) -> None:
    """In a directory where ``gharts dev`` ran, admin commands use its database and say so."""
    dev_database(sqlite_url, here)

    created = here("admin", "teams", "create", "ml", "--output", "json", config=False)
    listed = here("admin", "teams", "list", "--output", "json", config=False)

    assert (EXIT_OK, NOTICE) == (created.code, created.err)
    assert ["ml"] == [team["name"] for team in listed.json()["teams"]]
    assert not (here.config.parent / "gharts.db").exists()


def test_a_configured_database_wins_over_the_dev_database(
    sqlite_url: str, here: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``GHARTS_DATABASE__URL`` (or any configuration) is used as given, without a notice."""
    dev_database(sqlite_url, here)
    other = tmp_path / "other.db"
    shutil.copyfile(sqlite_url.removeprefix("sqlite+aiosqlite:///"), other)
    monkeypatch.setenv("GHARTS_DATABASE__URL", f"sqlite+aiosqlite:///{other}")

    result = here("admin", "teams", "list", "--output", "json", config=False)

    assert (EXIT_OK, "") == (result.code, result.err)


def test_db_upgrade_without_configuration_migrates_the_dev_database(
    sqlite_url: str, here: Cli
) -> None:
    """The hint's own command, followed in a dev checkout, reaches the dev database."""
    dev_database(sqlite_url, here)

    result = here("db", "upgrade", config=False)

    assert (EXIT_OK, NOTICE) == (result.code, result.err)
    assert not (here.config.parent / "gharts.db").exists()


def test_without_any_database_the_hint_names_the_url_and_the_command(here: Cli) -> None:
    """No configuration, no dev data: the default URL, the command, and no stray file."""
    result = here("admin", "users", "list", config=False)
    current = here("db", "current", "--output", "json", config=False)

    assert (EXIT_FAILED, "") == (result.code, result.out)
    assert result.err == (
        "error: SERVICE_UNAVAILABLE: There is no database at sqlite+aiosqlite:///./gharts.db "
        "(no file gharts.db). Create it with `gharts db upgrade`, or name the configuration "
        "with --config.\n"
    )
    assert (EXIT_FAILED, []) == (current.code, current.json()["revisions"])
    assert not (here.config.parent / "gharts.db").exists()


def test_an_unmigrated_file_names_the_url_and_the_command(here: Cli) -> None:
    """A SQLite file without the schema is reported with the command that migrates it."""
    (here.config.parent / "gharts.db").write_bytes(b"")

    result = here("stats", config=False)

    assert result.err == (
        "error: SERVICE_UNAVAILABLE: The database sqlite+aiosqlite:///./gharts.db is "
        "unreachable or not migrated. If it is reachable, migrate it with `gharts db upgrade`.\n"
    )


def test_a_configured_database_that_does_not_answer_names_the_config(
    here: Cli, tmp_path: Path
) -> None:
    """With --config the command to run carries the same --config; the password is masked."""
    config = write_config(tmp_path / "pg.toml", "postgresql+asyncpg://u:s3cret@127.0.0.1:9/db")

    result = here("--config", str(config), "stats", config=False)

    assert EXIT_FAILED == result.code
    assert "postgresql+asyncpg://u:***@127.0.0.1:9/db is unreachable" in result.err
    assert f"migrate it with `gharts --config {config} db upgrade`" in result.err
    assert "s3cret" not in result.err


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+asyncpg://u:p%40ss@db:5432/x", "postgresql+asyncpg://u:***@db:5432/x"),
        ("postgresql+asyncpg://u@db/x", "postgresql+asyncpg://u@db/x"),
        ("sqlite+aiosqlite:///./gharts.db", "sqlite+aiosqlite:///./gharts.db"),
    ],
)
def test_masked_url_hides_only_the_password(url: str, expected: str) -> None:
    """Passwords never reach a terminal or a CI log."""
    assert expected == masked_url(url)
