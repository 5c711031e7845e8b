"""``GET /api/v1/admin/audit/export``: the whole filtered audit log, streamed as JSONL or CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest

from gharts_core.model import Actor, AuditEvent, AuditOutcome, PrincipalKind, new_id
from gharts_http.audit_export import AUDIT_CSV_COLUMNS
from tests.integration.api_support import Api
from tests.integration.audit_support import T0, add_audit, audit_row

EXPORT = "/api/v1/admin/audit/export"
ROWS = 520  # more than one page of the export (500 rows)
AWKWARD_NAME = 'Doe, "Jay"\nsecond line'
AWKWARD_DETAILS = {"note": 'a,b "quoted"\r\nnext', "n": 1}
SOURCE_IP = "203.0.113.9"
AWKWARD_AGENT = '@curl/8.5 "quoted", with a comma'


def awkward_row() -> AuditEvent:
    """A row whose actor name and details need CSV quoting."""
    return AuditEvent(
        id=new_id(),
        at=T0 + timedelta(days=1),
        actor=Actor(kind=PrincipalKind.USER, id=None, name=AWKWARD_NAME),
        action="policy.check",
        outcome=AuditOutcome.DENIED,
        target_type="team",
        target_id="=HYPERLINK(1)",
        details=AWKWARD_DETAILS,
        source_ip=SOURCE_IP,
        user_agent=AWKWARD_AGENT,
    )


@pytest.fixture
async def logged(api_on_each_database: Api) -> Api:
    """The app with 520 plain rows in January 2020 and one awkward row a day later."""
    api = api_on_each_database
    plain = [
        audit_row(f"r{i}", action="runner.provision" if i % 2 else "runner.refresh", hours=i / 60)
        for i in range(ROWS)
    ]
    add_audit(api, *plain, awkward_row())
    return api


async def all_ids(api: Api, **query: str) -> list[str]:
    """Every matching row id through the paged list endpoint, newest first."""
    ids: list[str] = []
    while True:
        params = {**query, "limit": "500", "offset": str(len(ids))}
        response = await api.call(
            "GET", "/api/v1/admin/audit", api.as_admin(), params=params, expect=200
        )
        page = [event["id"] for event in response.json()["events"]]
        ids.extend(page)
        if not page:
            return ids


def csv_records(text: str) -> list[dict[str, str]]:
    """Parse CSV text (header first) into one dict per row."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    assert list(AUDIT_CSV_COLUMNS) == header
    return [dict(zip(header, row, strict=True)) for row in reader]


async def test_jsonl_export_streams_every_row_newest_first(logged: Api) -> None:
    """One JSON object per line, every row of the log, in the list endpoint's order."""
    api = logged
    response = await api.call("GET", EXPORT, api.as_admin(), params={"format": "jsonl"}, expect=200)

    lines = [json.loads(line) for line in response.text.splitlines()]
    assert await all_ids(api) == [line["id"] for line in lines]


async def test_jsonl_export_keeps_awkward_fields_intact(logged: Api) -> None:
    """Quotes, commas and newlines survive the JSON round trip."""
    api = logged
    response = await api.call("GET", EXPORT, api.as_admin(), expect=200)

    awkward = next(
        json.loads(line) for line in response.text.splitlines() if '"policy.check"' in line
    )
    expected = {
        "id": awkward["id"],
        "at": "2020-01-02T00:00:00Z",
        "actor": {"kind": "user", "id": None, "name": AWKWARD_NAME},
        "action": "policy.check",
        "outcome": "denied",
        "target_type": "team",
        "target_id": "=HYPERLINK(1)",
        "team_id": None,
        "team_name": None,
        "details": AWKWARD_DETAILS,
        "source_ip": SOURCE_IP,
        "user_agent": AWKWARD_AGENT,
    }
    assert expected == awkward


async def test_csv_export_streams_every_row_with_a_header(logged: Api) -> None:
    """RFC 4180 CSV: a header, then every row in the list endpoint's order."""
    api = logged
    response = await api.call("GET", EXPORT, api.as_admin(), params={"format": "csv"}, expect=200)

    records = csv_records(response.text)
    assert await all_ids(api) == [record["id"] for record in records]


async def test_csv_export_quotes_awkward_cells_and_defuses_formulas(logged: Api) -> None:
    """Quoted cells parse back exactly; a cell starting with '=' or '@' gets an apostrophe.

    The request's origin is exported too: the address, and the user agent the caller chose.
    """
    api = logged
    response = await api.call("GET", EXPORT, api.as_admin(), params={"format": "csv"}, expect=200)

    records = csv_records(response.text)
    awkward = next(r for r in records if r["action"] == "policy.check")
    expected = (AWKWARD_NAME, "'=HYPERLINK(1)", AWKWARD_DETAILS, SOURCE_IP, "'" + AWKWARD_AGENT)
    assert expected == (
        awkward["actor_name"],
        awkward["target_id"],
        json.loads(awkward["details"]),
        awkward["source_ip"],
        awkward["user_agent"],
    )
    plain = next(r for r in records if r["action"] == "runner.provision")
    assert ("", "") == (plain["source_ip"], plain["user_agent"])  # written outside a request


@pytest.mark.parametrize(
    ("export_format", "media_type"),
    [("jsonl", "application/x-ndjson"), ("csv", "text/csv")],
)
async def test_export_is_a_file_attachment(api: Api, export_format: str, media_type: str) -> None:
    """The content type names the format; the file name ends in its extension."""
    response = await api.call(
        "GET", EXPORT, api.as_admin(), params={"format": export_format}, expect=200
    )

    disposition = response.headers["Content-Disposition"]
    assert (media_type, True, True) == (
        response.headers["Content-Type"].partition(";")[0],
        disposition.startswith('attachment; filename="gharts-audit-'),
        disposition.endswith(f'.{export_format}"'),
    )


async def test_export_applies_the_filters(logged: Api) -> None:
    """Only matching rows are exported."""
    api = logged
    query = {"action": "runner.refresh", "until": "2020-01-02T00:00:00Z"}

    response = await api.call(
        "GET", EXPORT, api.as_admin(), params={**query, "format": "csv"}, expect=200
    )

    records = csv_records(response.text)
    assert (ROWS // 2, {"runner.refresh"}, await all_ids(api, **query)) == (
        len(records),
        {record["action"] for record in records},
        [record["id"] for record in records],
    )


@pytest.mark.parametrize(
    ("query", "status", "code", "field"),
    [
        ({"format": "xlsx"}, 400, "VALIDATION_ERROR", "format"),
        ({"action": "runner.explode"}, 400, "VALIDATION_ERROR", "action"),
        ({"team": "nowhere"}, 404, "TEAM_NOT_FOUND", None),
    ],
)
async def test_a_bad_export_request_fails_before_streaming(
    api: Api, query: dict[str, str], status: int, code: str, field: str | None
) -> None:
    """Errors are JSON error bodies, not a truncated file."""
    response = await api.call("GET", EXPORT, api.as_admin(), params=query, expect=status)

    body: dict[str, Any] = response.json()
    assert (code, field) == (body["error_code"], next(iter(body.get("field_errors") or {}), None))
