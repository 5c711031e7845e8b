"""``gharts audit export`` and ``gharts policy check``: offline reads of the stored data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from gharts_http.audit_export import AUDIT_CSV_COLUMNS
from gharts_http.cli.main import EXIT_FAILED, EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from tests.integration.cli_harness import Cli, make_cli


@pytest.fixture
def cli(
    sqlite_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    cli = make_cli(sqlite_url, tmp_path, capsys, monkeypatch)
    for argv in (
        ["admin", "teams", "create", "ml", "--required-labels", "team-ml", "--patterns", "gpu-.*"],
        ["admin", "teams", "create", "web"],
        ["admin", "users", "create", "--email", "ada@example.com", "--name", "Ada", "--teams=ml"],
    ):
        assert EXIT_OK == cli(*argv, "--actor", "ops@example.com").code
    return cli


def test_policy_check_allows_labels_the_policy_accepts(cli: Cli) -> None:
    """Exit status 0 and the final labels, required ones included."""
    result = cli("policy", "check", "--team", "ml", "--labels", "gpu-a100")

    expected = {"team_name": "ml", "allowed": True, "labels": ["gpu-a100", "team-ml"]}
    body = result.json()
    assert (EXIT_OK, "", []) == (result.code, result.err, body["violations"])
    assert expected == {key: body[key] for key in expected}


def test_policy_check_refuses_with_exit_status_3(cli: Cli) -> None:
    """Refused labels are the answer (JSON with violations), exit status 3, no error line."""
    result = cli("policy", "check", "--team", "ml", "--labels", "gpu-a100,prod-secrets")

    body = result.json()
    assert (EXIT_REFUSED, "", False) == (result.code, result.err, body["allowed"])
    assert ["prod-secrets"] == [violation["label"] for violation in body["violations"]]


def test_policy_check_of_an_unknown_team_fails(cli: Cli) -> None:
    """An unknown team is TEAM_NOT_FOUND in one line, exit status 1."""
    result = cli("policy", "check", "--team", "nope", "--labels", "gpu-a100")

    assert (EXIT_FAILED, "") == (result.code, result.out)
    assert "error: TEAM_NOT_FOUND: Team 'nope' not found.\n" == result.err


def test_export_writes_json_lines_to_stdout(cli: Cli) -> None:
    """Every audit row, one JSON object per line."""
    result = cli("audit", "export")

    rows = [json.loads(line) for line in result.out.splitlines()]
    assert (EXIT_OK, "") == (result.code, result.err)
    assert ["team.create", "team.create", "team.member_add", "user.create"] == sorted(
        row["action"] for row in rows
    )
    assert {("operator", "ops@example.com")} == {
        (row["actor"]["kind"], row["actor"]["name"]) for row in rows
    }


def test_export_filters_and_writes_csv_to_a_file(cli: Cli, tmp_path: Path) -> None:
    """``--format csv --output FILE --action ...``: a header and the matching rows only."""
    target = tmp_path / "audit.csv"

    result = cli(
        "audit", "export", "--format", "csv", "--output", str(target), "--action", "team.create"
    )

    with target.open(encoding="utf-8", newline="") as stream:
        table = list(csv.reader(stream))
    assert (EXIT_OK, "", "") == (result.code, result.out, result.err)
    assert list(AUDIT_CSV_COLUMNS) == table[0]
    assert [["team.create"], ["team.create"]] == [[row[5]] for row in table[1:]]
    assert target.read_bytes().endswith(b"\r\n")


def test_export_filters_by_team_and_time(cli: Cli) -> None:
    """Team and time-range filters are applied; a range in the future matches nothing."""
    by_team = cli("audit", "export", "--team", "web")
    future = cli("audit", "export", "--since", "2999-01-01T00:00:00Z")

    assert ["team.create"] == [json.loads(line)["action"] for line in by_team.out.splitlines()]
    assert (EXIT_OK, "") == (future.code, future.out)


def test_export_to_an_unwritable_place_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    """A missing directory is reported in one line, and nothing is left behind."""
    target = tmp_path / "missing" / "audit.jsonl"

    result = cli("audit", "export", "--output", str(target))

    assert (EXIT_USAGE, "") == (result.code, result.out)
    assert result.err.startswith(f"error: USAGE: --output {target}: ")
    assert 1 == len(result.err.splitlines())


def test_export_of_an_unknown_action_is_a_validation_error(cli: Cli) -> None:
    """An action that does not exist is refused by the service, with its code."""
    result = cli("audit", "export", "--action", "nope")

    assert (EXIT_FAILED, "") == (result.code, result.out)
    assert result.err.startswith("error: VALIDATION_ERROR: ")
