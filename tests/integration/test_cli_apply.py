"""``gharts apply -f teams.toml`` and ``gharts export``: teams, members and clients as a file."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

import pytest

from gharts_adapters.storage import create_store
from gharts_core.model import AuditEvent
from gharts_core.ports.storage import AuditFilter, Page
from gharts_http.cli.main import EXIT_CHANGES, EXIT_OK, EXIT_USAGE
from tests.integration.cli_harness import Cli, Result, make_cli

ISSUER = "https://token.actions.githubusercontent.com"
SUBJECT = "repo:acme/ml:ref:refs/heads/main"
TEAMS = f"""
[teams.ml]
description = "Machine learning"
required_labels = ["ML", "team-ml"]
optional_label_patterns = ["gpu-.*"]
allowed_runner_group_ids = [1, 7]
max_runners = 10
members = ["Ada@example.com", "root@example.com"]

[[teams.ml.clients]]
issuer = "{ISSUER}"
subject = "{SUBJECT}"
can_use_registration_token = true

[teams.web]
members = []
"""


@pytest.fixture
def cli(
    fresh_database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    """The CLI on a fresh database of each kind (SQLite, an emptied PostgreSQL), with an admin."""
    cli = make_cli(fresh_database_url, tmp_path, capsys, monkeypatch)
    assert (
        EXIT_OK == cli("admin", "create-admin", "--email", "root@example.com", "--name", "R").code
    )
    return cli


@pytest.fixture
def teams(tmp_path: Path) -> Path:
    path = tmp_path / "teams.toml"
    path.write_text(TEAMS)
    return path


def write(path: Path, text: str) -> Path:
    """Write ``text`` (dedented) to ``path``."""
    path.write_text(textwrap.dedent(text))
    return path


async def _audit(url: str) -> list[AuditEvent]:
    store = create_store(url)
    try:
        async with store.unit_of_work() as uow:
            return list((await uow.audit.list(AuditFilter(), Page(limit=500))).items)
    finally:
        await store.close()


def audit_rows(cli: Cli) -> list[AuditEvent]:
    """Every audit row of the CLI's database, newest first."""
    return asyncio.run(_audit(cli.database_url))


def plan(cli: Cli, path: Path, *extra: str) -> tuple[int, list[tuple[str, str, str]], Any]:
    """Run ``apply --plan --detailed-exitcode``; return the code, (action, kind, target), JSON."""
    result = cli("apply", "-f", str(path), "--plan", "--detailed-exitcode", *extra, "--output",
                 "json")  # fmt: skip
    assert "" == result.err, result.err
    body = result.json()
    return result.code, [(c["action"], c["kind"], c["target"]) for c in body["changes"]], body


def apply(cli: Cli, path: Path, *extra: str) -> Result:
    """Run ``apply`` (it must succeed)."""
    result = cli("apply", "-f", str(path), *extra)
    assert (EXIT_OK, "") == (result.code, result.err), result.err
    return result


def test_plan_of_a_new_organisation_creates_everything_and_writes_nothing(
    cli: Cli, teams: Path
) -> None:
    """Users, teams, members and clients to create, in that order; exit 4; no audit row."""
    rows_before = len(audit_rows(cli))

    code, changes, body = plan(cli, teams)

    client = f"{SUBJECT} ({ISSUER})"
    assert EXIT_CHANGES == code
    assert [
        ("create", "user", "ada@example.com"),
        ("create", "team", "ml"),
        ("create", "team", "web"),
        ("add", "member", "ml ada@example.com"),
        ("add", "member", "ml root@example.com"),
        ("create", "client", client),
    ] == changes
    assert {
        "description": "Machine learning",
        "required_labels": ["ml", "team-ml"],
        "optional_label_patterns": ["gpu-.*"],
        "allowed_runner_group_ids": [1, 7],
        "default_runner_group_id": 1,
        "max_runners": 10,
    } == body["changes"][1]["after"]
    assert rows_before == len(audit_rows(cli))


def test_apply_then_apply_again_changes_nothing_and_writes_no_audit_row(
    cli: Cli, teams: Path
) -> None:
    """Applying is idempotent: the second run plans nothing and records nothing."""
    apply(cli, teams, "--actor", "ops@example.com")
    rows = audit_rows(cli)

    second = apply(cli, teams, "--output", "table")
    code, changes, _ = plan(cli, teams)

    assert f"No changes: the database matches {teams}." == second.out.strip()
    assert (EXIT_OK, []) == (code, changes)
    assert len(rows) == len(audit_rows(cli))
    applied = rows[:-1]  # newest first: the last row is the fixture's create-admin
    assert {("operator", "ops@example.com")} == {
        (row.actor.kind, row.actor.name) for row in applied
    }


def test_plan_shows_each_update_with_the_fields_before_and_after(
    cli: Cli, teams: Path, tmp_path: Path
) -> None:
    """Changed fields only, before and after; members added and removed; a client updated."""
    apply(cli, teams)
    changed = write(
        tmp_path / "changed.toml",
        f"""
        [teams.ml]
        description = "Machine learning"
        required_labels = ["ml", "team-ml"]
        optional_label_patterns = ["gpu-.*", "size-(s|m)"]
        allowed_runner_group_ids = [1, 7]
        max_runners = 20
        members = ["bob@example.com", "root@example.com"]

        [[teams.ml.clients]]
        issuer = "{ISSUER}"
        subject = "{SUBJECT}"
        description = "main branch"
        can_use_registration_token = true

        [teams.web]
        """,
    )

    code, changes, body = plan(cli, changed)
    table = cli("apply", "-f", str(changed), "--plan", "--output", "table").out

    assert EXIT_CHANGES == code
    assert [
        ("create", "user", "bob@example.com"),
        ("update", "team", "ml"),
        ("add", "member", "ml bob@example.com"),
        ("remove", "member", "ml ada@example.com"),
        ("update", "client", f"{SUBJECT} ({ISSUER})"),
    ] == changes
    update = body["changes"][1]
    assert ({"optional_label_patterns": ["gpu-.*"], "max_runners": 10}, {
        "optional_label_patterns": ["gpu-.*", "size-(s|m)"], "max_runners": 20
    }) == (update["before"], update["after"])  # fmt: skip
    assert "      max_runners: 10 -> 20" in table.splitlines()
    assert '      description: "" -> "main branch"' in table.splitlines()
    assert "Plan: 2 to create or enable, 2 to update, 1 to remove, deactivate or disable." in table


def test_prune_deactivates_and_disables_what_the_file_no_longer_declares(
    cli: Cli, teams: Path, tmp_path: Path
) -> None:
    """Without --prune undeclared teams and clients stay; with it they are switched off."""
    apply(cli, teams)
    only_web = write(tmp_path / "web.toml", "[teams.web]\n")

    kept = plan(cli, only_web)
    pruned = plan(cli, only_web, "--prune")
    apply(cli, only_web, "--prune")
    team = cli("admin", "teams", "show", "ml", "--output", "json").json()["team"]
    client = cli("admin", "clients", "show", SUBJECT, "--output", "json").json()

    assert (EXIT_OK, []) == kept[:2]
    assert (EXIT_CHANGES, [
        ("deactivate", "team", "ml"), ("disable", "client", f"{SUBJECT} ({ISSUER})")
    ]) == pruned[:2]  # fmt: skip
    assert (False, "not declared in web.toml (gharts apply --prune)") == (
        team["is_active"],
        team["deactivation_reason"],
    )
    assert client["is_active"] is False


def test_a_declared_team_that_was_deactivated_is_reactivated(cli: Cli, teams: Path) -> None:
    """The file says the team exists; apply makes it active again (and a disabled client)."""
    apply(cli, teams)
    cli("admin", "teams", "deactivate", "ml", "--reason", "paused")
    cli("admin", "clients", "disable", SUBJECT)

    _, changes, _ = plan(cli, teams)

    assert [
        ("reactivate", "team", "ml"), ("enable", "client", f"{SUBJECT} ({ISSUER})")
    ] == changes  # fmt: skip


def test_export_then_plan_shows_no_change(cli: Cli, teams: Path, tmp_path: Path) -> None:
    """What export writes is what apply reads: the round trip plans nothing."""
    apply(cli, teams)
    cli("admin", "teams", "create", "extra", "--patterns", 'quote-"-.*', "--description", "a\nb")
    exported = tmp_path / "exported.toml"

    result = cli("export", "-f", str(exported))
    code, changes, _ = plan(cli, exported, "--prune")
    stdout = cli("export").out

    assert (EXIT_OK, "") == (result.code, result.err)
    assert (EXIT_OK, []) == (code, changes)
    assert exported.read_text() == stdout
    assert "[teams.extra]" in stdout


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        (
            '[teams.ml]\noptional_label_patterns = ["gpu-(", "ok"]\n',
            ["teams.ml.optional_label_patterns 'gpu-('"],
        ),
        (
            '[teams.ml]\nrequired_labels = ["linux"]\nmax_runners = 0\ncolour = "red"\n',
            ["teams.ml: unknown key 'colour'", "teams.ml.required_labels 'linux'",
             "teams.ml.max_runners: at least 1"],
        ),
        (
            '[teams.Bad_Name]\n[teams.ok]\nmembers = ["nope", 3]\n',
            ["teams.Bad_Name: a team name is", "teams.ok.members: expected a list of str",
             "teams.ok.members: 'nope' does not look like"],
        ),
        (
            (
                '[teams.ml]\nallowed_runner_group_ids = [2]\ndefault_runner_group_id = 5\n'
                '[[teams.ml.clients]]\nissuer = "https://i"\n'
            ),
            ["teams.ml.default_runner_group_id: 5 is not one of", "teams.ml.clients[0]: subject"],
        ),
        (
            (
                '[teams.a1]\n[[teams.a1.clients]]\nissuer = "i"\nsubject = "s"\n'
                '[teams.b1]\n[[teams.b1.clients]]\nissuer = "i"\nsubject = "s"\n'
            ),
            ["teams.b1.clients: issuer 'i' and subject 's' are declared already (in teams.a1)"],
        ),
        ("[teams.ml\n", ["not valid TOML"]),
        (
            (
                f'[teams.ml]\ndescription = "{"x" * 1001}"\n[[teams.ml.clients]]\n'
                f'issuer = "{ISSUER}"\nsubject = "s"\ndescription = "{"y" * 1001}"\n'
            ),
            ["teams.ml.description: at most 1000 characters",
             "teams.ml.clients[0].description: at most 1000 characters"],
        ),
        (
            '[teams.ml]\n[[teams.ml.clients]]\nissuer = "https://nobody.example/"\nsubject = "s"\n',
            ["teams.ml.clients[0]: issuer 'https://nobody.example/' is not a trusted issuer"],
        ),
    ],
)  # fmt: skip
def test_a_bad_file_names_each_problem_and_changes_nothing(
    cli: Cli, tmp_path: Path, text: str, problems: list[str]
) -> None:
    """One line per problem with the file and the entry; exit 2; no audit row is written."""
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    rows = len(audit_rows(cli))

    result = cli("apply", "-f", str(bad))

    prefix = f"error: INVALID_TEAMS_FILE: {bad}: "
    lines = result.err.splitlines()
    assert (EXIT_USAGE, "") == (result.code, result.out)
    assert all(line.startswith(prefix) for line in lines), lines
    assert [] == [
        p for p in problems if not any(line[len(prefix) :].startswith(p) for line in lines)
    ]
    assert rows == len(audit_rows(cli))


def test_detailed_exitcode_needs_plan(cli: Cli, teams: Path) -> None:
    """``--detailed-exitcode`` without ``--plan`` is bad usage, and nothing is applied."""
    result = cli("apply", "-f", str(teams), "--detailed-exitcode")

    assert (EXIT_USAGE, "") == (result.code, result.out)
    assert "--detailed-exitcode goes with --plan" in result.err


def test_a_missing_file_is_one_line(cli: Cli, tmp_path: Path) -> None:
    """A file that cannot be read is named, exit 2."""
    result = cli("apply", "-f", str(tmp_path / "nowhere.toml"))

    assert EXIT_USAGE == result.code
    assert "nowhere.toml: cannot read the file" in result.err


def test_a_change_the_service_refuses_stops_apply_and_says_how_far_it_got(
    cli: Cli, tmp_path: Path
) -> None:
    """A change the core refuses stops apply there: exit 1, how far it got, the rest left.

    The file check cannot know every rule of the core: an address on a special-use domain looks
    like an email, and only the core's validator refuses it. Users come first in a plan.
    """
    refused = tmp_path / "refused.toml"
    refused.write_text('[teams.ml]\nmembers = ["ada@example.test"]\n')

    result = cli("apply", "-f", str(refused), "--output", "json")
    _, remaining, _ = plan(cli, refused)

    lines = result.err.splitlines()
    assert (1, 2) == (result.code, len(lines)), result.err
    assert lines[0].startswith("error: APPLY_STOPPED: create user ada@example.test failed; ")
    assert "the 0 changes before it were made, the rest were not" in lines[0]
    assert lines[1].startswith("error: VALIDATION_ERROR: ")
    assert 0 == result.json()["applied"]
    assert ("create", "user", "ada@example.test") in remaining
