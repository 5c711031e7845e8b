"""Dev mode in process: the seed, the dev issuer's documents, the simulator mount, the banner."""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import attrs
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from gharts_adapters.identity import DevIssuer
from gharts_core.model import Principal
from gharts_core.ports.identity import TokenKind
from gharts_core.services.admin_clients import ClientQuery
from gharts_http.bootstrap import Services, bootstrap
from gharts_http.cli.dev.app import create_dev_app, dev_settings, dev_verifier
from gharts_http.cli.dev.banner import QUICKSTART_BODY, banner, provision_command
from gharts_http.cli.dev.command import token_public_url
from gharts_http.cli.dev.data_dir import DATABASE_FILE, issuer_url, public_url_for, reset
from gharts_http.cli.dev.seed import (
    DEMO_CLIENT,
    DEMO_TEAM,
    DEV_ADMIN_EMAIL,
    SeedReport,
    seed_dev_data,
)
from gharts_http.cli.dev.server import keep_github
from gharts_http.cli.main import build_parser, main
from tests.integration.api_support import bearer, running_api

PUBLIC_URL = "http://127.0.0.1:8000"


@attrs.frozen
class DevApp:
    """The dev app in process, its services, its issuer and a client on it."""

    http: AsyncTestClient[Litestar]
    services: Services
    issuer: DevIssuer


def data_dir_with_database(data_dir: Path, template: Path) -> Path:
    """Create ``data_dir`` holding a copy of the migrated ``template`` database."""
    data_dir.mkdir()
    shutil.copyfile(template, data_dir / DATABASE_FILE)
    return data_dir


@asynccontextmanager
async def running_dev_app(data_dir: Path) -> AsyncIterator[DevApp]:
    """Run the dev app on the database in ``data_dir``."""
    settings = dev_settings(
        data_dir, host="127.0.0.1", port=8000, public_url=PUBLIC_URL, admin_email=DEV_ADMIN_EMAIL
    )
    issuer = DevIssuer(issuer_url(PUBLIC_URL), key_dir=data_dir)
    async with httpx.AsyncClient(transport=issuer.transport()) as identity_client:
        services = bootstrap(settings, identity=dev_verifier(issuer, identity_client))
        try:
            app = create_dev_app(services, issuer)
            async with AsyncTestClient(app, base_url=PUBLIC_URL) as http:
                yield DevApp(http, services, issuer)
        finally:
            await services.aclose()


@pytest.fixture
async def dev(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[DevApp]:
    """The dev app on a fresh database, seeded once."""
    async with running_dev_app(
        data_dir_with_database(tmp_path / "dev", sqlite_template)
    ) as running:
        await seed_dev_data(running.services, running.issuer.issuer)
        yield running


def parse(*argv: str) -> argparse.Namespace:
    """Parse ``argv`` as the ``gharts`` command line does."""
    return build_parser().parse_args(argv)


async def test_seeding_twice_creates_nothing_the_second_time(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """A second seeding run keeps the data and reports nothing created."""
    data_dir = data_dir_with_database(tmp_path / "dev", sqlite_template)
    async with running_dev_app(data_dir) as dev:
        first = await seed_dev_data(dev.services, dev.issuer.issuer)
        second = await seed_dev_data(dev.services, dev.issuer.issuer)
        clients = await dev.services.clients.list_clients(Principal.system(), ClientQuery())
    expected = SeedReport(
        created=(f"admin {DEV_ADMIN_EMAIL}", "team demo", f"machine client {DEMO_CLIENT}")
    )
    assert expected == first
    assert SeedReport(created=()) == second
    assert [DEMO_CLIENT] == [details.client.subject for details in clients.items]


async def test_seeded_team_has_the_demo_policy_and_the_admin(dev: DevApp) -> None:
    """Team demo requires its label, allows its patterns, caps runners, has the admin."""
    system = Principal.system()
    team = await dev.services.teams.get_team(system, "demo")
    members = await dev.services.teams.list_members(system, "demo")
    assert (DEMO_TEAM.required_labels, DEMO_TEAM.optional_label_patterns, 10) == (
        team.policy.required_labels,
        team.policy.optional_label_patterns,
        team.max_runners,
    )
    assert [DEV_ADMIN_EMAIL] == [member.email for member in members]


async def test_seeding_leaves_a_disabled_client_disabled(dev: DevApp) -> None:
    """Re-seeding does not undo an admin's decision to disable the demo client."""
    system = Principal.system()
    [details] = (await dev.services.clients.list_clients(system, ClientQuery())).items
    await dev.services.clients.disable_client(system, details.client.id, "not needed")
    report = await seed_dev_data(dev.services, dev.issuer.issuer)
    clients = await dev.services.clients.list_clients(system, ClientQuery())
    assert SeedReport(created=()) == report
    assert [False] == [found.client.is_active for found in clients.items]


async def test_dev_app_serves_the_issuer_documents(dev: DevApp) -> None:
    """Discovery and JWKS are served under /dev/oidc, as the issuer publishes them."""
    discovery = await dev.http.get("/dev/oidc/.well-known/openid-configuration")
    jwks = await dev.http.get("/dev/oidc/jwks")
    assert (200, dev.issuer.discovery_document()) == (discovery.status_code, discovery.json())
    assert (200, dev.issuer.jwks_document()) == (jwks.status_code, jwks.json())
    assert f"{PUBLIC_URL}/dev/oidc/jwks" == discovery.json()["jwks_uri"]


async def test_ordinary_app_has_no_dev_issuer_and_no_simulator(sqlite_url: str) -> None:
    """Outside dev mode neither /dev/oidc nor the simulator's control API exists."""
    paths = [
        "/dev/oidc/.well-known/openid-configuration",
        "/dev/oidc/jwks",
        "/_github/_simulator/runners",
    ]
    async with running_api(sqlite_url) as api:
        responses = [await api.http.get(path) for path in paths]
    expected = [(404, "NOT_FOUND")] * len(paths)
    assert expected == [(r.status_code, r.json()["error_code"]) for r in responses]


async def test_banner_request_provisions_for_the_demo_client(dev: DevApp) -> None:
    """The banner's body, sent with a demo-ci token, provisions a runner of team demo."""
    token = dev.issuer.mint_machine_token(DEMO_CLIENT)
    response = await dev.http.post(
        "/api/v1/runners/jit", headers=bearer(token), json=QUICKSTART_BODY
    )
    body = response.json()
    assert 201 == response.status_code, response.text
    assert ("demo", ["demo", "gpu-a100"]) == (body["team_name"], sorted(body["labels"]))


async def test_simulator_control_api_is_mounted(dev: DevApp) -> None:
    """The simulator's control API answers under /_github/_simulator and brings a runner online."""
    token = dev.issuer.mint_user_token(DEV_ADMIN_EMAIL)
    created = await dev.http.post(
        "/api/v1/runners/jit", headers=bearer(token), json=QUICKSTART_BODY
    )
    github_id = created.json()["github_runner_id"]
    online = await dev.http.post(f"/_github/_simulator/runners/{github_id}/online")
    listed = await dev.http.get("/_github/_simulator/runners")
    assert (200, "online") == (online.status_code, online.json()["status"])
    assert [github_id] == [runner["id"] for runner in listed.json()["runners"]]


def test_banner_prints_the_exact_commands() -> None:
    """The banner holds the token commands and the provisioning curl, ready to paste."""
    text = banner(PUBLIC_URL, ".gharts-dev", SeedReport(created=()))
    expected_curl = (
        "curl -s -X POST http://127.0.0.1:8000/api/v1/runners/jit "
        '-H "Authorization: Bearer $(gharts dev token --client demo-ci)" '
        "-H 'Content-Type: application/json' "
        '-d \'{"runner_name_prefix": "demo", "labels": ["gpu-a100"]}\''
    )
    lines = [line.split("#")[0].strip() for line in text.splitlines()]
    assert "gharts dev token --client demo-ci" in lines
    assert "gharts dev token --email admin@gharts.dev" in lines
    assert expected_curl in lines
    assert "API docs:           http://127.0.0.1:8000/schema" in lines


def test_banner_names_a_non_default_data_dir() -> None:
    """Token commands carry --data-dir when the data lives elsewhere."""
    command = provision_command(PUBLIC_URL, "my data")
    assert "$(gharts dev token --client demo-ci --data-dir 'my data')" in command


def test_wildcard_addresses_are_reached_on_loopback() -> None:
    """A server bound to every interface is reached on the loopback address."""
    expected = ["http://127.0.0.1:9000", "http://[::1]:9000", "http://10.0.0.2:9000"]
    actual = [public_url_for(host, 9000) for host in ("0.0.0.0", "::", "10.0.0.2")]  # noqa: S104
    assert expected == actual


def test_token_url_prefers_flags_then_the_last_run(tmp_path: Path) -> None:
    """--public-url wins, then --port, then the address the last dev run recorded."""
    (tmp_path / "dev.json").write_text('{"public_url": "http://127.0.0.1:8123"}')
    data = ["--data-dir", str(tmp_path)]
    expected = ["http://example.test", "http://127.0.0.1:9000", "http://127.0.0.1:8123"]
    actual = [
        token_public_url(parse("dev", "token", "--client", "x", *data, *flags))
        for flags in (["--public-url", "http://example.test"], ["--port", "9000"], [])
    ]
    assert expected == actual


def test_token_without_keys_is_an_error_not_a_new_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Minting before `gharts dev` ever ran says so and creates nothing."""
    code = main(["dev", "token", "--client", DEMO_CLIENT, "--data-dir", str(tmp_path)])
    [line] = capsys.readouterr().err.splitlines()
    assert (1, []) == (code, list(tmp_path.iterdir()))
    assert line.startswith("error: DEV_NOT_STARTED: ")
    assert line.endswith(f"start `gharts dev` first with --data-dir {tmp_path}")


async def test_token_prints_a_token_the_server_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`gharts dev token --email` prints a token the server's issuer verifies as that person."""
    issuer = DevIssuer(issuer_url(PUBLIC_URL), key_dir=tmp_path)
    (tmp_path / "dev.json").write_text(f'{{"public_url": "{PUBLIC_URL}"}}')
    code = main(["dev", "token", "--email", "alice@example.com", "--data-dir", str(tmp_path)])
    [token] = capsys.readouterr().out.split()
    async with httpx.AsyncClient(transport=issuer.transport()) as client:
        verified = await dev_verifier(issuer, client).verify(token)
    assert (0, TokenKind.USER, "alice@example.com") == (code, verified.kind, verified.email)


def test_reset_deletes_only_the_dev_files(tmp_path: Path) -> None:
    """--reset removes the database, its journals, the keys, the secret and the state only."""
    names = [
        "gharts.db",
        "gharts.db-wal",
        "dev-oidc-keys.json",
        "dev.json",
        "github.json",
        "dashboard-session-secret",
        "notes.txt",
    ]
    for name in names:
        (tmp_path / name).write_text("x")
    reset(tmp_path)
    assert ["notes.txt"] == sorted(path.name for path in tmp_path.iterdir())


def test_busy_port_is_one_line_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A port in use stops `gharts dev` with one error line, before migrating anything."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        code = main(["dev", "--port", str(port), "--data-dir", str(tmp_path)])
    [line] = capsys.readouterr().err.splitlines()
    assert (1, []) == (code, list(tmp_path.iterdir()))
    assert f"error: LISTEN_FAILED: cannot listen on 127.0.0.1:{port}: " in line


def test_dev_token_does_not_load_the_server_stack() -> None:
    """``gharts dev token`` runs inside ``$(...)``: it must not import SQLAlchemy or Litestar."""
    script = (
        "import contextlib, io, sys\n"
        "from gharts_http.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['dev', 'token', '--help'])\n"
        "print(sorted(m for m in ('sqlalchemy', 'litestar', 'alembic') if m in sys.modules))\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert "[]" == result.stdout.strip()


async def test_a_restarted_dev_keeps_the_github_its_database_knows(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """Issue 12, finding 2: the simulator started empty while the database kept its rows."""
    data_dir = data_dir_with_database(tmp_path / "dev", sqlite_template)
    async with running_dev_app(data_dir) as first:
        keep_github(first.services, data_dir)
        await seed_dev_data(first.services, first.issuer.issuer)
        token = first.issuer.mint_user_token(DEV_ADMIN_EMAIL)
        old = await first.http.post(
            "/api/v1/runners/jit", headers=bearer(token), json=QUICKSTART_BODY
        )
    async with running_dev_app(data_dir) as second:
        keep_github(second.services, data_dir)
        listed = await second.http.get("/_github/_simulator/runners")
        new = await second.http.post(
            "/api/v1/runners/jit", headers=bearer(token), json=QUICKSTART_BODY
        )

    old_id, new_id = old.json()["github_runner_id"], new.json()["github_runner_id"]
    assert [old_id] == [runner["id"] for runner in listed.json()["runners"]]
    assert (201, True) == (new.status_code, new_id > old_id)
