"""``gharts runners|stats|security-events|sync status|sync trigger|db|--version|completion``."""

from __future__ import annotations

import asyncio
import importlib.metadata
import subprocess
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from gharts_core.errors import GhartsError
from gharts_core.model import AuditAction, Principal
from gharts_core.ports.storage import AuditFilter, Page
from gharts_core.services.provision import ProvisionJitRunner
from gharts_core.testing.fake_github import FakeRunnerPlatform
from gharts_http.bootstrap import Services, bootstrap
from gharts_http.cli import support as cli_support
from gharts_http.cli.main import EXIT_FAILED, EXIT_OK
from gharts_http.settings import load_settings
from tests.integration.cli_harness import Cli, make_cli


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> FakeRunnerPlatform:
    """One GitHub fake for every command of a test, so a provisioned runner is there to delete."""
    fake = FakeRunnerPlatform()

    def with_fake(settings: Any, **ports: Any) -> Services:
        return bootstrap(settings, **{**ports, "github": fake})

    monkeypatch.setattr(cli_support, "bootstrap", with_fake)
    return fake


@pytest.fixture
def cli(
    sqlite_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    github: FakeRunnerPlatform,
) -> Cli:
    cli = make_cli(sqlite_url, tmp_path, capsys, monkeypatch)
    for argv in (
        ["admin", "create-admin", "--email", "root@example.com", "--name", "Root"],
        ["admin", "teams", "create", "ml", "--required-labels", "team-ml", "--patterns", "gpu-.*"],
    ):
        assert EXIT_OK == cli(*argv).code
    return cli


def on_services(
    cli: Cli, github: FakeRunnerPlatform, action: Callable[[Services], Coroutine[Any, Any, Any]]
) -> Any:
    """Run ``action`` on services of the CLI's configuration and its GitHub fake."""

    async def run() -> Any:
        services = bootstrap(load_settings(cli.config), github=github)
        try:
            return await action(services)
        finally:
            await services.aclose()

    return asyncio.run(run())


def provision(cli: Cli, github: FakeRunnerPlatform, name: str) -> str:
    """Provision a JIT runner of team ``ml`` as the operator; return its id."""

    async def run(services: Services) -> str:
        command = ProvisionJitRunner(runner_name=name, team_name="ml", labels=("gpu-a100",))
        done = await services.provisioning.provision_jit(Principal.operator("t"), command)
        return str(done.runner.id)

    result: str = on_services(cli, github, run)
    return result


def json_of(cli: Cli, *argv: str) -> Any:
    """Run a command that must succeed with ``--output json``; return its output."""
    result = cli(*argv, "--output", "json")
    assert (EXIT_OK, "") == (result.code, result.err), result.err
    return result.json()


def table_of(cli: Cli, *argv: str) -> list[list[str]]:
    """Run a command that must succeed with ``--output table``; return its lines, split."""
    result = cli(*argv, "--output", "table")
    assert (EXIT_OK, "") == (result.code, result.err), result.err
    return [line.split() for line in result.out.splitlines()]


def test_runners_list_show_delete(cli: Cli, github: FakeRunnerPlatform) -> None:
    """A provisioned runner is listed and shown; delete removes it from GitHub and marks it."""
    runner_id = provision(cli, github, "ml-1")

    listed = json_of(cli, "runners", "list", "--team", "ml")
    rows = table_of(cli, "runners", "list")
    shown = table_of(cli, "runners", "show", runner_id)
    deleted = json_of(cli, "runners", "delete", runner_id, "--actor", "ops@example.com")
    after = json_of(cli, "runners", "list")

    assert ([runner_id], 1) == ([r["runner_id"] for r in listed["runners"]], listed["total"])
    assert ["RUNNER_ID", "RUNNER_NAME", "TEAM_NAME", "STATUS", "LABELS", "CREATED_AT"] == rows[0]
    assert [runner_id, "ml-1", "ml", "pending", "gpu-a100,team-ml"] == rows[1][:5]
    assert ["runner_name", "ml-1"] in shown
    assert ("deleted", []) == (deleted["status"], list(github.runners))
    assert 0 == after["total"]


def test_runners_show_of_an_unknown_id_fails(cli: Cli) -> None:
    """An unknown runner is RUNNER_NOT_FOUND; a malformed id is bad usage."""
    missing = cli("runners", "show", "00000000-0000-0000-0000-000000000001")
    malformed = cli("runners", "show", "ml-1")

    assert (EXIT_FAILED, True) == (missing.code, missing.err.startswith("error: RUNNER_NOT_FOUND"))
    assert "not a runner id: 'ml-1'" in malformed.err


def test_stats_as_json_and_table(cli: Cli, github: FakeRunnerPlatform) -> None:
    """Counts of runners by status and team, users, teams."""
    provision(cli, github, "ml-1")

    body = json_of(cli, "stats")
    rows = table_of(cli, "stats")

    assert (1, {"ml": {"pending": 1}}, 1, 1) == (
        body["live_runners"],
        body["runners_by_team"],
        body["users"],
        body["teams"],
    )
    assert ["live_runners", "1"] in rows
    assert ["ml", "pending=1"] in rows


def test_security_events_list_filters(cli: Cli, github: FakeRunnerPlatform) -> None:
    """A refused provisioning is a security event; filters by type and severity apply."""
    refused = ProvisionJitRunner(runner_name="x", team_name="ml", labels=("prod",))

    async def refuse(services: Services) -> None:
        try:
            await services.provisioning.provision_jit(Principal.operator("t"), refused)
        except GhartsError:  # the refusal is the point
            return

    on_services(cli, github, refuse)

    body = json_of(cli, "security-events", "list", "--type", "label_policy_violation")
    none = json_of(cli, "security-events", "list", "--severity", "critical")
    rows = table_of(cli, "security-events", "list")

    assert (1, "ml") == (body["total"], body["events"][0]["team_name"])
    assert 0 == none["total"]
    assert ["AT", "SEVERITY", "TYPE", "TEAM", "MESSAGE"] == rows[0]
    assert "label_policy_violation" in rows[1]


def test_sync_status_then_trigger_runs_a_cycle_here(cli: Cli, github: FakeRunnerPlatform) -> None:
    """With no worker leading, trigger runs the cycle in the command; status then shows it."""
    before = json_of(cli, "sync", "status")
    triggered = json_of(cli, "sync", "trigger", "--actor", "ops@example.com")
    after = table_of(cli, "sync", "status")

    async def trigger_rows(services: Services) -> list[str]:
        async with services.store.unit_of_work() as uow:
            found = await uow.audit.list(AuditFilter(action=AuditAction.SYNC_TRIGGER), Page())
        return [row.actor.name for row in found.items]

    assert (0, None) == (before["cycles"], before["last_run"])
    assert ("completed", 0) == (triggered["status"], triggered["report"]["observed"])
    assert ["cycles", "1"] in after
    assert ["ops@example.com"] == on_services(cli, github, trigger_rows)


def test_sync_without_once_or_subcommand_is_usage(cli: Cli) -> None:
    """``gharts sync`` alone names both ways to use it."""
    result = cli("sync")

    assert 2 == result.code
    assert "or a subcommand: status, trigger" in result.err


def test_db_current_and_history(cli: Cli, tmp_path: Path) -> None:
    """A migrated database is at the head (exit 0); an empty one is behind (exit 1)."""
    history = json_of(cli, "db", "history")
    head = next(revision["id"] for revision in history if revision["is_head"])
    current = json_of(cli, "db", "current")
    empty = cli("db", "current", "--url", f"sqlite+aiosqlite:///{tmp_path / 'e.db'}", "--output",
                "table")  # fmt: skip

    rows = table_of(cli, "db", "history")

    assert ([head], True) == (current["revisions"], current["up_to_date"])
    assert ["REVISION", "AFTER", "MESSAGE"] == rows[0]
    assert [head, "head"] in [row[:1] + row[2:3] for row in rows[1:]]
    assert EXIT_FAILED == empty.code
    assert f"none (not migrated), behind: run `gharts db upgrade` ({head})" in empty.out


def test_version_prints_the_installed_version(cli: Cli) -> None:
    """``gharts --version`` exits 0 with the distribution's version."""
    result = cli("--version", config=False)

    assert (EXIT_OK, f"gharts {importlib.metadata.version('gharts')}\n") == (
        result.code,
        result.out,
    )


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_scripts_know_the_commands(cli: Cli, shell: str) -> None:
    """The script names the commands and their options, and the shell accepts it."""
    result = cli("completion", shell, config=False)

    assert (EXIT_OK, "") == (result.code, result.err)
    for word in ("apply", "security-events", "--detailed-exitcode", "remove-member"):
        assert word in result.out
    if shell == "bash":
        checked = subprocess.run(
            ["/bin/bash", "-n"], input=result.out, text=True, capture_output=True, check=False
        )
        assert (0, "") == (checked.returncode, checked.stderr)


def test_version_works_without_a_database_and_imports_no_server(tmp_path: Path) -> None:
    """``--version`` answers in an empty directory without importing the HTTP stack."""
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import sys; from gharts_http.cli.main import main; code = main(['--version']); "
                "print(code, 'litestar' in sys.modules, 'sqlalchemy' in sys.modules)"
            ),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )

    assert (0, "") == (completed.returncode, completed.stderr)
    assert [f"gharts {importlib.metadata.version('gharts')}", "0 False False"] == (
        completed.stdout.splitlines()
    )
