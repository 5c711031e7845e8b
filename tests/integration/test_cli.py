"""The ``gharts`` command line as a whole: help, one-line errors and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gharts_http.cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from tests.integration.cli_harness import Cli, make_cli, write_config


@pytest.fixture
def cli(
    sqlite_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    return make_cli(sqlite_url, tmp_path, capsys, monkeypatch)


def test_help_lists_every_command(cli: Cli) -> None:
    """``gharts --help`` exits 0 and names each command of the spec."""
    result = cli("--help", config=False)

    commands = [
        "serve", "worker", "db", "admin", "runners", "sync", "stats", "security-events",
        "audit", "policy", "apply", "export", "completion",
    ]  # fmt: skip
    assert EXIT_OK == result.code
    assert [] == [name for name in commands if f"    {name} " not in result.out]


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--help"],
        ["worker", "--help"],
        ["sync", "--help"],
        ["admin", "teams", "create", "--help"],
        ["admin", "clients", "create", "--help"],
        ["audit", "export", "--help"],
        ["policy", "check", "--help"],
    ],
)
def test_every_command_has_help(cli: Cli, argv: list[str]) -> None:
    """Each command describes itself and its options."""
    result = cli(*argv, config=False)

    assert (EXIT_OK, "") == (result.code, result.err)
    assert "usage: gharts" in result.out
    assert "options:" in result.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["admin", "teams", "create"], "the following arguments are required: name"),
        (["policy", "check", "--team", "alpha"], "required: --labels"),
        (["admin", "users", "list", "--limit", "0"], "expected 1-500"),
        (["audit", "export", "--since", "yesterday"], "not an ISO 8601 time"),
        (["audit", "export", "--since", "2026-01-01T00:00"], "give the UTC offset"),
        (["bogus"], "invalid choice: 'bogus'"),
        (["sync"], "gharts sync needs --once"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(cli: Cli, argv: list[str], message: str) -> None:
    """Bad usage prints one ``error: USAGE: ...`` line, no usage dump, no traceback."""
    result = cli(*argv)

    assert (EXIT_USAGE, "") == (result.code, result.out)
    assert 1 == len(result.err.splitlines()), result.err
    assert result.err.startswith("error: USAGE: ")
    assert message in result.err


def test_bad_configuration_prints_each_problem_and_exits_2(cli: Cli, tmp_path: Path) -> None:
    """A broken configuration file stops every command with one line per problem."""
    config = tmp_path / "bad.toml"
    config.write_text('[database]\nurl = "mysql://x"\n[server]\nport = 0\n')

    result = cli("--config", str(config), "admin", "users", "list", config=False)

    prefix = "error: INVALID_CONFIG: "
    lines = result.err.splitlines()
    assert (EXIT_USAGE, "") == (result.code, result.out)
    assert all(line.startswith(prefix) for line in lines)
    assert ["database.url", "server.port"] == [
        line.removeprefix(prefix).split(":")[0] for line in lines
    ]


def test_missing_configuration_file_is_a_configuration_error(cli: Cli, tmp_path: Path) -> None:
    """Naming a file that does not exist is reported, not ignored."""
    missing = tmp_path / "nowhere.toml"

    result = cli("--config", str(missing), "admin", "users", "list", config=False)

    assert (EXIT_USAGE, 1) == (result.code, len(result.err.splitlines()))
    assert result.err.startswith(f"error: INVALID_CONFIG: {missing}: cannot read")


def test_unreachable_database_is_one_line_and_exits_1(cli: Cli, tmp_path: Path) -> None:
    """An admin command against a database that does not answer fails cleanly."""
    config = write_config(tmp_path / "pg.toml", "postgresql+asyncpg://nobody@127.0.0.1:9/none")

    result = cli("--config", str(config), "admin", "users", "list", config=False)

    assert (EXIT_FAILED, "") == (result.code, result.out)
    assert result.err == (
        "error: SERVICE_UNAVAILABLE: The database postgresql+asyncpg://nobody@127.0.0.1:9/none "
        "is unreachable or not migrated. If it is reachable, migrate it with "
        f"`gharts --config {config} db upgrade`.\n"
    )


def test_unmigrated_database_says_to_upgrade(cli: Cli, tmp_path: Path) -> None:
    """An empty SQLite file is reported with the command that fixes it."""
    (tmp_path / "e.db").write_bytes(b"")
    config = write_config(tmp_path / "empty.toml", f"sqlite+aiosqlite:///{tmp_path / 'e.db'}")

    result = cli("--config", str(config), "policy", "check", "--team", "a", "--labels", "x",
                 config=False)  # fmt: skip

    assert EXIT_FAILED == result.code
    assert f"migrate it with `gharts --config {config} db upgrade`" in result.err


def test_a_missing_sqlite_file_is_not_created(cli: Cli, tmp_path: Path) -> None:
    """A configured SQLite file that does not exist is named, and left uncreated."""
    missing = tmp_path / "typo.db"
    config = write_config(tmp_path / "typo.toml", f"sqlite+aiosqlite:///{missing}")

    result = cli("--config", str(config), "admin", "teams", "list", config=False)

    assert (EXIT_FAILED, False) == (result.code, missing.exists())
    assert result.err == (
        f"error: SERVICE_UNAVAILABLE: There is no database at sqlite+aiosqlite:///{missing} "
        f"(no file {missing}). Create it with `gharts --config {config} db upgrade`.\n"
    )


def test_console_script_runs_as_a_module(tmp_path: Path) -> None:
    """``python -m gharts_http.cli`` is the same program, with the same exit codes."""
    completed = subprocess.run(
        [sys.executable, "-m", "gharts_http.cli", "sync"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )

    assert (EXIT_USAGE, "") == (completed.returncode, completed.stdout)
    assert completed.stderr.startswith("error: USAGE: gharts sync needs --once")
