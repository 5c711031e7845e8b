"""``gharts admin ...``: users, teams and clients through the core services, as the operator."""

from __future__ import annotations

import asyncio
import getpass
import socket
from pathlib import Path
from typing import Any

import pytest

from gharts_adapters.storage import create_store
from gharts_core.model import AuditAction
from gharts_core.ports.storage import AuditFilter, Page
from gharts_http.cli.main import EXIT_FAILED, EXIT_OK
from tests.integration.cli_harness import Cli, make_cli

ISSUER = "https://kubernetes.default.svc"


@pytest.fixture
def cli(
    sqlite_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    return make_cli(sqlite_url, tmp_path, capsys, monkeypatch)


def ok(cli: Cli, *argv: str) -> Any:
    """Run a command that must succeed; return its JSON output."""
    result = cli(*argv)
    assert (EXIT_OK, "") == (result.code, result.err), result.err
    return result.json()


def failure(cli: Cli, *argv: str) -> str:
    """Run a command that must fail with exit status 1; return its one error line."""
    result = cli(*argv)
    assert (EXIT_FAILED, "") == (result.code, result.out)
    assert 1 == len(result.err.splitlines()), result.err
    return result.err.rstrip("\n")


async def _audit_actors(url: str) -> list[tuple[str, str]]:
    store = create_store(url)
    try:
        async with store.unit_of_work() as uow:
            rows = await uow.audit.list(AuditFilter(), Page(limit=100))
    finally:
        await store.close()
    return sorted((row.action, row.actor.name) for row in rows.items)


def test_create_admin_creates_then_keeps_the_admin(cli: Cli) -> None:
    """The first call creates an active admin; the second finds it and creates nothing."""
    first = ok(cli, "admin", "create-admin", "--email", "Root@Example.com", "--name", "Root")
    second = ok(cli, "admin", "create-admin", "--email", "root@example.com", "--name", "Other")

    user = first["user"]
    assert (True, False) == (first["created"], second["created"])
    assert ("root@example.com", "Root", True, True) == (
        user["email"],
        user["display_name"],
        user["is_admin"],
        user["is_active"],
    )
    assert user["id"] == second["user"]["id"]


def test_teams_users_members_and_clients(cli: Cli) -> None:
    """An operator sets a team up from the shell; each step prints what the API would."""
    team = ok(
        cli, "admin", "teams", "create", "ml",
        "--required-labels", "ml,team-ml", "--patterns", "gpu-.*", "--patterns", "size-(s|l)",
        "--max-runners", "5", "--runner-groups", "1,7",
    )  # fmt: skip
    user = ok(cli, "admin", "users", "create", "--email", "ada@example.com", "--name", "Ada")
    member = ok(cli, "admin", "teams", "add-member", "ml", "Ada@example.com")
    client = ok(
        cli, "admin", "clients", "create", "--issuer", ISSUER, "--subject", "system:sa:ci",
        "--team", "ml", "--registration-token",
    )  # fmt: skip
    listing = ok(cli, "admin", "users", "list", "--team", "ml")

    assert (["ml", "team-ml"], ["gpu-.*", "size-(s|l)"], 5, [1, 7]) == (
        sorted(team["required_labels"]),
        team["optional_label_patterns"],
        team["max_runners"],
        team["allowed_runner_group_ids"],
    )
    assert ([], True, "ml") == (user["teams"], member["changed"], member["team"])
    assert (ISSUER, "ml", True) == (
        client["issuer"],
        client["team"],
        client["can_use_registration_token"],
    )
    assert (1, ["ada@example.com"], [["ml"]]) == (
        listing["total"],
        [u["email"] for u in listing["users"]],
        [u["teams"] for u in listing["users"]],
    )


def test_changes_are_audited_as_the_named_operator(cli: Cli) -> None:
    """``--actor`` names who made the change in every audit row, never ``system``."""
    ok(cli, "admin", "teams", "create", "ml", "--actor", "ops@example.com")
    ok(
        cli, "admin", "users", "create", "--email", "a@example.com", "--name", "A", "--teams=ml",
        "--actor", "ops@example.com",
    )  # fmt: skip
    ok(cli, "admin", "create-admin", "--email", "r@example.com", "--name", "R", "--actor", "x@y")

    actors = asyncio.run(_audit_actors(cli.database_url))

    expected = [
        (AuditAction.TEAM_CREATE.value, "ops@example.com"),
        (AuditAction.TEAM_MEMBER_ADD.value, "ops@example.com"),
        (AuditAction.USER_CREATE.value, "ops@example.com"),
        (AuditAction.USER_CREATE.value, "x@y"),
    ]
    assert expected == actors


def test_the_default_operator_is_the_os_user_at_the_host(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``--actor`` the audit rows name ``<os-user>@<host>``."""
    monkeypatch.setattr(getpass, "getuser", lambda: "ada")
    monkeypatch.setattr(socket, "gethostname", lambda: "bastion")

    ok(cli, "admin", "teams", "create", "ml")

    assert [(AuditAction.TEAM_CREATE.value, "ada@bastion")] == asyncio.run(
        _audit_actors(cli.database_url)
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["admin", "teams", "add-member", "nope", "ada@example.com"],
            "error: TEAM_NOT_FOUND: Team 'nope' not found.",
        ),
        (
            ["admin", "teams", "add-member", "ml", "nobody@example.com"],
            "error: USER_NOT_FOUND: User 'nobody@example.com' not found.",
        ),
        (
            ["admin", "clients", "create", "--issuer", ISSUER, "--subject", "x", "--team", "nope"],
            "error: TEAM_NOT_FOUND: Team 'nope' not found.",
        ),
        (
            ["admin", "users", "create", "--email", "b@example.com", "--name", "B", "--teams=nope"],
            "error: TEAM_NOT_FOUND: Team 'nope' not found.",
        ),
    ],
)
def test_unknown_names_fail_in_one_line(cli: Cli, argv: list[str], expected: str) -> None:
    """A team or user that does not exist is named in one error line, exit status 1."""
    ok(cli, "admin", "teams", "create", "ml")
    ok(cli, "admin", "users", "create", "--email", "ada@example.com", "--name", "Ada")

    assert expected == failure(cli, *argv)


def test_duplicate_team_is_a_conflict(cli: Cli) -> None:
    """Creating a team twice fails with CONFLICT."""
    ok(cli, "admin", "teams", "create", "ml")

    assert failure(cli, "admin", "teams", "create", "ml").startswith("error: CONFLICT: ")


def test_bad_policy_is_refused_with_its_code(cli: Cli) -> None:
    """A pattern RE2 cannot compile is INVALID_POLICY, and no team is created."""
    error = failure(cli, "admin", "teams", "create", "ml", "--patterns", "gpu-(")

    assert error.startswith("error: INVALID_POLICY: ")
    assert 0 == ok(cli, "admin", "users", "list")["total"]
    assert failure(cli, "admin", "teams", "add-member", "ml", "x@example.com").startswith(
        "error: TEAM_NOT_FOUND"
    )


def test_a_client_of_an_untrusted_issuer_is_refused(cli: Cli) -> None:
    """``clients create`` checks the issuer as the API does: trusted, byte for byte."""
    ok(cli, "admin", "teams", "create", "ml")
    argv = ["admin", "clients", "create", "--subject", "ci", "--team", "ml", "--issuer"]

    untrusted = cli(*argv, "https://nobody.example/")
    slashed = cli(*argv, ISSUER + "/")

    assert (EXIT_FAILED, EXIT_FAILED) == (untrusted.code, slashed.code)
    assert "is not a trusted issuer" in untrusted.err
    assert "differs from the trusted issuer" in slashed.err
