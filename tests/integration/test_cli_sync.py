"""``gharts sync --once``: one cycle, its report as JSON, exit 0 or 1."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from sqlalchemy import text

from gharts_adapters.github.simulator.wiring import app_key_pair
from gharts_adapters.storage import create_engine, upgrade
from gharts_adapters.storage.leadership import SYNC_LOCK_KEY
from gharts_core.errors import GitHubUnavailable
from gharts_core.model import Actor, Principal, ProvisionMethod, RunnerRecord, RunnerStatus
from gharts_core.services.admin_teams import CreateTeam
from gharts_core.testing.fake_github import FakeRunnerPlatform
from gharts_http.bootstrap import Services, bootstrap
from gharts_http.cli import support as cli_support
from gharts_http.cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from gharts_http.settings import load_settings
from tests.integration.cli_harness import Cli, clean_environment, make_cli
from tests.postgres import require_postgres, temporary_database

LABELS = ("gpu-a100", "team-ml")


def app_mode_cli(
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    """``gharts`` configured as a GitHub App; the ``github`` fixture stands in for GitHub."""
    clean_environment(monkeypatch)
    key = tmp_path / "app.pem"
    key.write_text(app_key_pair()[0])
    config = tmp_path / "gharts.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n'
        f'[github]\nmode = "app"\nscope = "org:acme"\napi_url = "http://127.0.0.1:9"\n'
        f'app_id = 1001\ninstallation_id = 2002\nprivate_key_path = "{key}"\n'
    )
    return Cli(config, database_url, capsys)


@pytest.fixture
def cli(
    sqlite_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    return app_mode_cli(sqlite_url, tmp_path, capsys, monkeypatch)


@pytest.fixture(autouse=True)
def github(monkeypatch: pytest.MonkeyPatch) -> FakeRunnerPlatform:
    """The in-memory GitHub fake, handed to the services the CLI bootstraps."""
    fake = FakeRunnerPlatform()

    def with_fake(settings: Any, **ports: Any) -> Services:
        return bootstrap(settings, **{**ports, "github": fake})

    monkeypatch.setattr(cli_support, "bootstrap", with_fake)
    return fake


def on_services(
    cli: Cli, action: Callable[[Services], Coroutine[Any, Any, Any]], **ports: Any
) -> Any:
    """Run ``action`` on services built from the CLI's configuration (to seed or inspect)."""

    async def run() -> Any:
        services = bootstrap(load_settings(cli.config), **ports)
        try:
            return await action(services)
        finally:
            await services.aclose()

    return asyncio.run(run())


def seeding(
    status: RunnerStatus, *, age: timedelta, github_runner_id: int | None = None
) -> Callable[[Services], Coroutine[Any, Any, RunnerRecord]]:
    """Return an action creating team ``ml`` and one runner of it, ``age`` old, in ``status``."""

    async def seed(services: Services) -> RunnerRecord:
        policy = CreateTeam(
            name="ml", required_labels=("team-ml",), optional_label_patterns=("gpu-.*",)
        )
        team = await services.teams.create_team(Principal.system(), policy)
        created = services.clock.now() - age
        reserved = RunnerRecord(
            id=uuid.uuid4(),
            name="runner-1",
            team_id=team.id,
            team_name=team.name,
            labels=LABELS,
            runner_group_id=1,
            status=RunnerStatus.PROVISIONING,
            method=ProvisionMethod.JIT,
            created_by=Actor.system(),
            created_at=created,
            updated_at=created,
        )
        record = attrs.evolve(reserved, status=status, github_runner_id=github_runner_id)
        async with services.store.unit_of_work() as uow:
            await uow.runners.reserve(reserved, None)
            if record != reserved:
                await uow.runners.save(record)
        return record

    return seed


def stored_status(cli: Cli, runner: RunnerRecord) -> RunnerStatus:
    """Return the runner's stored status."""

    async def read(services: Services) -> RunnerStatus:
        async with services.store.unit_of_work() as uow:
            record = await uow.runners.get(runner.id)
        assert record is not None
        return record.status

    result: RunnerStatus = on_services(cli, read)
    return result


def test_one_cycle_resolves_a_stuck_row_and_prints_the_report(cli: Cli) -> None:
    """A row stuck in provisioning, unknown to GitHub, is marked deleted; exit status 0."""
    stuck = on_services(cli, seeding(RunnerStatus.PROVISIONING, age=timedelta(hours=1)))

    result = cli("sync", "--once")

    report = result.json()
    assert (EXIT_OK, "") == (result.code, result.err)
    assert ({"mark_deleted": 1}, [], 0) == (report["actions"], report["errors"], report["observed"])
    assert RunnerStatus.DELETED is stored_status(cli, stuck)


def test_cycle_with_errors_prints_the_report_and_exits_1(
    cli: Cli, github: FakeRunnerPlatform
) -> None:
    """A drifted runner GitHub refuses to delete: the report names the error, exit status 1."""
    observed = github.register("runner-1", [*LABELS, "prod-secrets"], status="online")
    seed = seeding(RunnerStatus.ONLINE, age=timedelta(hours=1), github_runner_id=observed.id)
    runner = on_services(cli, seed, github=github)
    github.fail_next(GitHubUnavailable("GitHub answered 500."), method="delete_runner")

    result = cli("sync", "--once")

    report = result.json()
    assert (EXIT_FAILED, "") == (result.code, result.err)
    assert 1 == len(report["errors"])
    assert "GitHub answered 500." in report["errors"][0]
    assert RunnerStatus.ONLINE is stored_status(cli, runner)


def test_failed_listing_is_one_error_line(cli: Cli, github: FakeRunnerPlatform) -> None:
    """GitHub failing the listing: no report, one ``error:`` line, exit status 1."""
    github.fail_next(GitHubUnavailable(), method="list_runners")

    result = cli("sync", "--once")

    assert (EXIT_FAILED, "") == (result.code, result.out)
    assert "error: GITHUB_UNAVAILABLE: GitHub is unavailable.\n" == result.err


def test_sync_needs_the_github_app_credentials(cli: Cli, tmp_path: Path) -> None:
    """In app mode without credentials the cycle cannot start: a configuration error."""
    config = tmp_path / "app.toml"
    config.write_text(f'[database]\nurl = "{cli.database_url}"\n[github]\nmode = "app"\n')

    result = cli("--config", str(config), "sync", "--once", config=False)

    assert (EXIT_USAGE, "") == (result.code, result.out)
    assert result.err.startswith("error: INVALID_CONFIG: github.app_id: required")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh migrated PostgreSQL database."""
    require_postgres()
    with temporary_database(prefix="gharts_cli") as url:
        upgrade(url)
        yield url


@pytest.fixture
async def pg_locked(pg_url: str) -> AsyncIterator[str]:
    """The database, its sync lock held by another session."""
    engine = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            key = {"key": SYNC_LOCK_KEY}
            assert await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), key)
            yield pg_url
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_sync_refuses_while_another_worker_leads(
    pg_locked: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On PostgreSQL the cycle runs only under the lock: CONFLICT while someone holds it."""
    cli = app_mode_cli(pg_locked, tmp_path, capsys, monkeypatch)

    result = await asyncio.to_thread(cli, "sync", "--once")

    assert (EXIT_FAILED, "") == (result.code, result.out)
    assert "error: CONFLICT: Another worker leads; it runs at its next interval.\n" == result.err


@pytest.mark.parametrize("command", [["sync", "--once"], ["worker"]])
def test_simulator_mode_is_refused_with_the_way_to_share_one(
    sqlite_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    """Issue 12: a worker or cycle on a GitHub of its own would retire the server's runners."""
    cli = make_cli(sqlite_url, tmp_path, capsys, monkeypatch)  # github.mode = "simulator"
    runner = on_services(cli, seeding(RunnerStatus.PENDING, age=timedelta(minutes=1)))

    result = cli(*command)

    assert (EXIT_USAGE, "") == (result.code, result.out)
    assert result.err.startswith(f"error: USAGE: gharts {' '.join(command)} refuses github.mode")
    assert "gharts simulator --port N --state FILE" in result.err
    assert "gharts serve --with-worker" in result.err
    assert RunnerStatus.PENDING is stored_status(cli, runner)  # nothing was reconciled


def test_sync_trigger_with_a_simulator_of_its_own_and_no_leader_is_refused(
    sqlite_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With nobody leading, trigger would run the cycle here against an empty simulated GitHub."""
    cli = make_cli(sqlite_url, tmp_path, capsys, monkeypatch)  # github.mode = "simulator"
    runner = on_services(cli, seeding(RunnerStatus.ONLINE, age=timedelta(minutes=1)))
    monkeypatch.setattr(cli_support, "bootstrap", bootstrap)  # the simulator, not the fake

    result = cli("sync", "trigger")

    assert (EXIT_USAGE, "") == (result.code, result.out)
    assert result.err.startswith("error: USAGE: gharts sync trigger found no worker leading")
    assert "POST /api/v1/admin/sync/trigger" in result.err
    assert RunnerStatus.ONLINE is stored_status(cli, runner)  # nothing was reconciled
