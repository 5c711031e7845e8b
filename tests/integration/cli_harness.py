"""Running ``gharts`` in process against a temporary SQLite database and configuration file.

Import it as ``tests.integration.cli_harness``::

    @pytest.fixture
    def cli(sqlite_url, tmp_path, capsys, monkeypatch) -> Cli:
        return make_cli(sqlite_url, tmp_path, capsys, monkeypatch)

    def test_something(cli: Cli) -> None:
        assert 0 == cli("admin", "teams", "create", "ml").code
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import attrs
import pytest

from gharts_http.cli.main import main

SCOPE = "org:acme"
#: The issuers the CLI tests register clients of: a client's issuer must be a trusted one.
TRUSTED_ISSUERS = (
    "https://kubernetes.default.svc",
    "https://token.actions.githubusercontent.com",
    "https://other.example.com",
    "http://127.0.0.1:8000/dev/oidc",
)
ISSUERS_CONFIG = "".join(
    f'[[auth.issuers]]\nissuer = "{issuer}"\naudiences = ["gharts"]\n' for issuer in TRUSTED_ISSUERS
)


@attrs.frozen
class Result:
    """What one command did: its exit code and what it printed."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """Return stdout parsed as JSON."""
        return json.loads(self.out)


@attrs.define
class Cli:
    """Call ``gharts --config <file> ...`` in process and capture its output."""

    config: Path
    database_url: str
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *argv: str, config: bool = True) -> Result:
        """Run the command line with ``argv`` (after ``--config`` unless ``config`` is off)."""
        self.capsys.readouterr()
        prefix = ["--config", str(self.config)] if config else []
        code = main([*prefix, *argv])
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)


def write_config(path: Path, database_url: str, extra: str = "") -> Path:
    """Write a configuration for ``database_url`` and the GitHub simulator."""
    path.write_text(
        f'[database]\nurl = "{database_url}"\n'
        f'[github]\nmode = "simulator"\nscope = "{SCOPE}"\n{extra}'
    )
    return path


def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's ``GHARTS_*`` variables away from the command."""
    for name in list(os.environ):
        if name.startswith("GHARTS_"):
            monkeypatch.delenv(name)


def make_cli(
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    """``gharts`` on ``database_url`` (migrated), the simulator and :data:`TRUSTED_ISSUERS`."""
    clean_environment(monkeypatch)
    config = write_config(tmp_path / "gharts.toml", database_url, ISSUERS_CONFIG)
    return Cli(config, database_url, capsys)
