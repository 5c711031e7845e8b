"""``gharts admin teams|users|clients ...``: every admin task of the API, as a table and as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gharts_http.cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from tests.integration.cli_harness import Cli, make_cli

ISSUER = "https://token.actions.githubusercontent.com"
SUBJECT = "repo:acme/ml:ref:refs/heads/main"


@pytest.fixture
def cli(
    sqlite_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    cli = make_cli(sqlite_url, tmp_path, capsys, monkeypatch)
    for argv in (
        ["admin", "create-admin", "--email", "root@example.com", "--name", "Root"],
        ["admin", "teams", "create", "ml", "--required-labels", "ml", "--patterns", "gpu-.*"],
        ["admin", "teams", "create", "web"],
        ["admin", "users", "create", "--email", "ada@example.com", "--name", "Ada", "--teams=ml"],
        ["admin", "clients", "create", "--issuer", ISSUER, "--subject", SUBJECT, "--team", "ml"],
    ):
        assert EXIT_OK == cli(*argv).code, cli(*argv).err
    return cli


def as_json(cli: Cli, *argv: str) -> Any:
    """Run a command that must succeed with ``--output json``; return the parsed output."""
    result = cli(*argv, "--output", "json")
    assert (EXIT_OK, "") == (result.code, result.err), result.err
    return result.json()


def as_table(cli: Cli, *argv: str) -> list[list[str]]:
    """Run a command that must succeed with ``--output table``; return its lines, split."""
    result = cli(*argv, "--output", "table")
    assert (EXIT_OK, "") == (result.code, result.err), result.err
    return [line.split() for line in result.out.splitlines()]


def test_teams_list_as_json_and_as_a_table(cli: Cli) -> None:
    """The JSON is the API's list; the table has a heading and one row per team."""
    body = as_json(cli, "admin", "teams", "list")
    rows = as_table(cli, "admin", "teams", "list")

    assert (["ml", "web"], 2) == ([team["name"] for team in body["teams"]], body["total"])
    assert ["NAME", "IS_ACTIVE", "REQUIRED_LABELS", "OPTIONAL_LABEL_PATTERNS", "MAX_RUNNERS"] == (
        rows[0]
    )
    assert [["ml", "yes", "ml", "gpu-.*", "-"], ["web", "yes", "-", "-", "-"]] == rows[1:]


def test_teams_show_includes_the_members(cli: Cli) -> None:
    """``show`` prints the team and who is in it."""
    body = as_json(cli, "admin", "teams", "show", "ml")
    rows = as_table(cli, "admin", "teams", "show", "ml")

    assert ("ml", ["ada@example.com"]) == (
        body["team"]["name"],
        [member["email"] for member in body["members"]["members"]],
    )
    assert ["name", "ml"] in rows
    assert ["ada@example.com", "Ada", "yes"] in rows


def test_teams_update_changes_only_the_given_fields(cli: Cli) -> None:
    """Patterns and quota change; the required labels stay; --no-max-runners lifts the quota."""
    first = as_json(cli, "admin", "teams", "update", "ml", "--max-runners", "20", "--no-patterns")
    second = as_json(cli, "admin", "teams", "update", "ml", "--no-max-runners")

    assert (["ml"], [], 20) == (
        first["required_labels"],
        first["optional_label_patterns"],
        first["max_runners"],
    )
    assert second["max_runners"] is None


def test_teams_deactivate_and_reactivate(cli: Cli) -> None:
    """A deactivated team shows who did it and why; reactivating clears it."""
    rows = as_table(
        cli, "admin", "teams", "deactivate", "web", "--reason", "merged", "--actor", "ops@x"
    )
    back = as_json(cli, "admin", "teams", "reactivate", "web")

    assert ["is_active", "no"] in rows
    assert ["deactivated_by", "ops@x"] in rows
    assert (True, None) == (back["is_active"], back["deactivation_reason"])


def test_remove_member_then_again_changes_nothing(cli: Cli) -> None:
    """Removing a member says so; removing a non-member is a no-op, not an error."""
    removed = as_table(cli, "admin", "teams", "remove-member", "ml", "ada@example.com")
    again = as_json(cli, "admin", "teams", "remove-member", "ml", "ada@example.com")
    added = as_table(cli, "admin", "teams", "add-member", "web", "ada@example.com")

    assert [["ada@example.com", "removed", "from", "team", "ml"]] == removed
    assert (False, "ml") == (again["changed"], again["team"])
    assert [["ada@example.com", "added", "to", "team", "web"]] == added


def test_users_show_by_email_or_id(cli: Cli) -> None:
    """A user is named by email (any case) or by the id the API uses."""
    by_email = as_json(cli, "admin", "users", "show", "Ada@Example.com")
    by_id = as_json(cli, "admin", "users", "show", by_email["id"])
    rows = as_table(cli, "admin", "users", "show", "ada@example.com")

    assert by_email == by_id
    assert (["ml"], ["teams", "ml"]) == (by_email["teams"], rows[rows.index(["teams", "ml"])])


def test_users_list_filters_and_tabulates(cli: Cli) -> None:
    """``--no-admin`` leaves the admins out; the table shows each user's teams."""
    body = as_json(cli, "admin", "users", "list", "--no-admin")
    rows = as_table(cli, "admin", "users", "list")

    assert ["ada@example.com"] == [user["email"] for user in body["users"]]
    assert ["EMAIL", "DISPLAY_NAME", "IS_ADMIN", "IS_ACTIVE", "TEAMS"] == rows[0]
    assert ["ada@example.com", "Ada", "no", "yes", "ml"] in rows


def test_users_update_deactivate_reactivate(cli: Cli) -> None:
    """Capabilities and name change; deactivation keeps the reason; reactivation clears it."""
    updated = as_json(
        cli, "admin", "users", "update", "ada@example.com", "--name", "Ada L.", "--no-jit",
        "--registration-token",
    )  # fmt: skip
    gone = as_json(cli, "admin", "users", "deactivate", "ada@example.com", "--reason", "left")
    back = as_json(cli, "admin", "users", "reactivate", "ada@example.com")

    assert ("Ada L.", False, True) == (
        updated["display_name"],
        updated["can_use_jit"],
        updated["can_use_registration_token"],
    )
    assert (False, "left") == (gone["is_active"], gone["deactivation_reason"])
    assert (True, None) == (back["is_active"], back["deactivation_reason"])


def test_the_last_admin_cannot_be_deactivated(cli: Cli) -> None:
    """The core's rule holds at the shell: CONFLICT, exit status 1."""
    result = cli("admin", "users", "deactivate", "root@example.com", "--reason", "oops")

    assert (EXIT_FAILED, "") == (result.code, result.out)
    assert result.err.startswith("error: CONFLICT: ")


def test_clients_list_show_update_disable_enable(cli: Cli) -> None:
    """A client is named by its subject; it moves teams, is disabled and enabled again."""
    listed = as_table(cli, "admin", "clients", "list", "--team", "ml")
    shown = as_json(cli, "admin", "clients", "show", SUBJECT)
    moved = as_json(cli, "admin", "clients", "update", SUBJECT, "--team", "web")
    disabled = as_json(cli, "admin", "clients", "disable", shown["id"], "--reason", "rotated")
    enabled = as_table(cli, "admin", "clients", "enable", SUBJECT)

    assert [SUBJECT, "ml", "yes", "yes", "no", ISSUER] == listed[1]
    assert (ISSUER, "ml") == (shown["issuer"], shown["team"])
    assert "web" == moved["team"]
    assert disabled["is_active"] is False
    assert ["is_active", "yes"] in enabled


def test_a_subject_two_clients_share_is_ambiguous(cli: Cli) -> None:
    """Two clients with one subject (different issuers) must be named by id: exit status 2."""
    cli("admin", "clients", "create", "--issuer", "https://other.example.com", "--subject", SUBJECT,
        "--team", "web")  # fmt: skip

    result = cli("admin", "clients", "show", SUBJECT)

    assert (EXIT_USAGE, "") == (result.code, result.out)
    assert f"several clients have the subject '{SUBJECT}'" in result.err


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["admin", "users", "show", "nobody@example.com"], "USER_NOT_FOUND"),
        (["admin", "clients", "show", "nobody"], "CLIENT_NOT_FOUND"),
        (["admin", "teams", "show", "nope"], "TEAM_NOT_FOUND"),
        (["admin", "teams", "update", "ml", "--patterns", "gpu-("], "INVALID_POLICY"),
    ],
)
def test_unknown_names_and_bad_values_fail_in_one_line(
    cli: Cli, argv: list[str], code: str
) -> None:
    """Each failure is one ``error: CODE: ...`` line and exit status 1."""
    result = cli(*argv)

    assert (EXIT_FAILED, "", 1) == (result.code, result.out, len(result.err.splitlines()))
    assert result.err.startswith(f"error: {code}: ")


@pytest.mark.parametrize(
    ("argv", "expected_row"),
    [
        (["admin", "create-admin", "--email", "new@example.com", "--name", "New"],
         ["is_admin", "yes"]),
        (["admin", "users", "create", "--email", "bo@example.com", "--name", "Bo"],
         ["email", "bo@example.com"]),
        (["admin", "teams", "create", "data", "--max-runners", "3"], ["max_runners", "3"]),
        (["admin", "clients", "create", "--issuer", ISSUER, "--subject", "s2", "--team", "web"],
         ["subject", "s2"]),
        (["policy", "check", "--team", "ml", "--labels", "gpu-a100"], ["allowed:", "gpu-a100,ml"]),
        (["sync", "status"], ["cycles", "0"]),
    ],
)  # fmt: skip
def test_each_command_prints_a_table(cli: Cli, argv: list[str], expected_row: list[str]) -> None:
    """The commands not tabulated above print a person's table too (FIELD VALUE rows)."""
    assert expected_row in as_table(cli, *argv)


def test_a_refused_policy_check_tabulates_the_violations(cli: Cli) -> None:
    """Exit status 3 and one row per offending label with its reason."""
    result = cli(
        "policy", "check", "--team", "ml", "--labels", "gpu-a100,prod", "--output", "table"
    )
    rows = [line.split()[:2] for line in result.out.splitlines()]

    assert (3, "") == (result.code, result.err)
    assert ["LABEL", "REASON"] == rows[1]
    assert ["prod", "not_allowed"] in rows
