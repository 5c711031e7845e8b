"""The audit export's file formats: JSON Lines and CSV rows, one audit row at a time."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest

from gharts_core.model import Actor, AuditEvent, AuditOutcome, PrincipalKind
from gharts_http.audit_export import (
    AUDIT_CSV_COLUMNS,
    audit_csv_header,
    audit_file,
    audit_file_name,
    audit_to_csv_row,
    audit_to_dict,
    audit_to_jsonl_line,
    csv_line,
)

OPS = Actor(PrincipalKind.USER, uuid.UUID(int=7), "ops@example.com")

EVENT = AuditEvent(
    id=uuid.UUID(int=1),
    at=datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC),
    actor=OPS,
    action="team.update",
    outcome=AuditOutcome.SUCCESS,
    target_type="team",
    target_id="web",
    team_id=uuid.UUID(int=2),
    team_name="web",
    details={"changed": ["max_runners"], "note": 'a,b "c"'},
)


def test_audit_to_dict_uses_rfc3339_utc_and_string_ids() -> None:
    """A row's JSON form: timestamps in RFC 3339 UTC with Z, ids as strings."""
    expected = {
        "id": "00000000-0000-0000-0000-000000000001",
        "at": "2026-05-04T03:02:01Z",
        "actor": {"kind": "user", "id": "00000000-0000-0000-0000-000000000007", "name": OPS.name},
        "action": "team.update",
        "outcome": "success",
        "target_type": "team",
        "target_id": "web",
        "team_id": "00000000-0000-0000-0000-000000000002",
        "team_name": "web",
        "details": {"changed": ["max_runners"], "note": 'a,b "c"'},
        "source_ip": None,
        "user_agent": None,
    }
    assert expected == audit_to_dict(EVENT)


def test_the_request_origin_is_exported_in_the_last_two_csv_columns() -> None:
    """``source_ip`` and ``user_agent`` follow ``details``, in JSON and as the last CSV cells."""
    event = attrs.evolve(EVENT, source_ip="2001:db8::1", user_agent="gharts-go/1.0")

    exported = audit_to_dict(event)
    row = audit_to_csv_row(event)

    assert ("details", "source_ip", "user_agent") == AUDIT_CSV_COLUMNS[-3:]
    assert ("2001:db8::1", "gharts-go/1.0") == (exported["source_ip"], exported["user_agent"])
    assert ["2001:db8::1", "gharts-go/1.0"] == row[-2:]


def test_audit_to_jsonl_line_is_one_json_object_per_line() -> None:
    """One JSON object per line, ended by one newline; the system actor has no id."""
    line = audit_to_jsonl_line(
        attrs.evolve(EVENT, actor=Actor.system(), team_id=None, team_name=None)
    )

    parsed = json.loads(line)
    expected = (1, True, {"kind": "system", "id": None, "name": "system"}, None)
    actual = (line.count("\n"), line.endswith("\n"), parsed["actor"], parsed["team_id"])
    assert expected == actual


def test_audit_csv_rows_follow_the_header_and_survive_a_csv_reader() -> None:
    """Rows follow the header's columns, end in CRLF and read back with a CSV reader."""
    text = csv_line(audit_csv_header()) + csv_line(
        audit_to_csv_row(attrs.evolve(EVENT, target_id=None))
    )

    rows = list(csv.reader(io.StringIO(text)))

    assert list(AUDIT_CSV_COLUMNS) == rows[0]
    row = dict(zip(rows[0], rows[1], strict=True))
    expected = ("2026-05-04T03:02:01Z", "", '{"changed":["max_runners"],"note":"a,b \\"c\\""}')
    assert expected == (row["at"], row["target_id"], row["details"])
    assert text.endswith("\r\n")


@pytest.mark.parametrize("name", ["=HYPERLINK(1)", "+1", "-1", "@SUM(A1)"])
def test_audit_csv_cells_never_start_a_spreadsheet_formula(name: str) -> None:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe."""
    actor = Actor(PrincipalKind.USER, None, name)

    row = audit_to_csv_row(attrs.evolve(EVENT, actor=actor))

    assert ("'" + name, "") == (row[AUDIT_CSV_COLUMNS.index("actor_name")], row[3])


async def _events(count: int) -> AsyncIterator[AuditEvent]:
    for number in range(count):
        yield attrs.evolve(EVENT, id=uuid.UUID(int=number))


async def test_the_export_file_is_its_lines_in_chunks_of_about_64_kib() -> None:
    """The file the API and the dashboard stream is every line, in a few large chunks."""
    rows = 1000

    chunks = [chunk async for chunk in audit_file(_events(rows), "csv")]

    lines = b"".join(chunks).decode().splitlines(keepends=True)
    assert (rows + 1, csv_line(audit_csv_header())) == (len(lines), lines[0])
    assert all(len(chunk) >= 64 * 1024 for chunk in chunks[:-1]), [len(c) for c in chunks]
    assert len(chunks) < rows // 10


async def test_an_unknown_export_format_is_refused_before_any_row_is_read() -> None:
    """A format other than jsonl and csv is a programming error, not an empty file."""
    with pytest.raises(ValueError, match="xml"):
        await anext(audit_file(_events(1), "xml"))


def test_the_export_file_name_says_when_in_utc_and_the_format() -> None:
    """The name holds the export's moment in UTC, whatever the clock's zone."""
    moment = datetime(2026, 5, 4, 5, 2, 1, tzinfo=timezone(timedelta(hours=2)))

    assert "gharts-audit-20260504T030201Z.jsonl" == audit_file_name(moment, "jsonl")
