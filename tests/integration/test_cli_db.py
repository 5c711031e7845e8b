"""`gharts db upgrade`: migrates the configured database, answers failures in one line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gharts_http.cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main


def test_upgrade_creates_the_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "gharts.db"
    code = main(["db", "upgrade", "--url", f"sqlite+aiosqlite:///{database}"])
    tables = {
        row[0]
        for row in sqlite3.connect(database).execute(
            "SELECT name FROM sqlite_master WHERE type='table'"
        )
    }
    assert EXIT_OK == code
    assert {"runners", "teams", "users", "audit_events", "alembic_version"} <= tables
    assert "database upgraded to head" in capsys.readouterr().out


def test_upgrade_reads_the_url_from_the_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "configured.db"
    config = tmp_path / "gharts.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{database}"\n[github]\nmode = "simulator"\n'
    )
    monkeypatch.delenv("GHARTS_DATABASE__URL", raising=False)
    assert EXIT_OK == main(["--config", str(config), "db", "upgrade"])
    assert database.exists()


def test_bad_configuration_is_one_line_per_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "gharts.toml"
    config.write_text('[database]\nurl = "mysql://x"\n[sync]\ninterval_seconds = 0\n')
    code = main(["--config", str(config), "db", "upgrade"])
    lines = capsys.readouterr().err.splitlines()
    assert EXIT_USAGE == code
    fields = [line.removeprefix("error: INVALID_CONFIG: ").split(":")[0] for line in lines]
    assert ["database.url", "sync.interval_seconds"] == fields


def test_upgrade_needs_no_github_credentials(tmp_path: Path) -> None:
    database = tmp_path / "no-github.db"
    config = tmp_path / "gharts.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{database}"\n[github]\nmode = "app"\n'
    )
    assert EXIT_OK == main(["--config", str(config), "db", "upgrade"])
    assert database.exists()


def test_unreachable_database_is_an_error_code_not_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["db", "upgrade", "--url", "postgresql+asyncpg://nobody@127.0.0.1:9/none"])
    err = capsys.readouterr().err
    assert EXIT_FAILED == code
    assert err == "error: SERVICE_UNAVAILABLE: The database is unavailable.\n"


def test_unknown_revision_is_reported_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["db", "upgrade", "nosuch", "--url", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"])
    err = capsys.readouterr().err
    assert EXIT_FAILED == code
    assert len(err.splitlines()) == 1
    assert "nosuch" in err
