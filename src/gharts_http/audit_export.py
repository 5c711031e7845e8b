"""The audit export's file formats: JSON Lines and CSV (RFC 4180), one row at a time.

``GET /api/v1/admin/audit/export`` (and the dashboard's export link) streams what
:meth:`~gharts_core.services.admin_audit.AuditAdminService.export_audit` yields through
:func:`audit_file`, and ``gharts audit export`` writes :func:`audit_lines`: the endpoint, the
dashboard and the CLI write byte-identical files.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from gharts_core.model import AuditEvent

__all__ = [
    "AUDIT_CSV_COLUMNS",
    "AUDIT_MEDIA_TYPES",
    "audit_csv_header",
    "audit_file",
    "audit_file_name",
    "audit_lines",
    "audit_to_csv_row",
    "audit_to_dict",
    "audit_to_jsonl_line",
    "csv_line",
]

AUDIT_CSV_COLUMNS = (
    "id",
    "at",
    "actor_kind",
    "actor_id",
    "actor_name",
    "action",
    "outcome",
    "target_type",
    "target_id",
    "team_id",
    "team_name",
    "details",
    "source_ip",
    "user_agent",
)
"""The CSV columns in order; columns added later come last, so positional readers keep working."""
AUDIT_MEDIA_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv"}
"""The export formats by name, with the media type each is sent as."""
_CHUNK_BYTES = 64 * 1024
# Spreadsheets run cells starting with these as formulas; actor names come from tokens.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _text(value: object | None) -> str | None:
    return None if value is None else str(value)


def audit_to_dict(event: AuditEvent) -> dict[str, Any]:
    """Return the JSON form of an audit row (RFC 3339 UTC timestamp, ids as strings).

    ``source_ip`` and ``user_agent`` are the request's origin, ``None`` for rows written outside
    a request (the worker, the command line).
    """
    return {
        "id": str(event.id),
        "at": _timestamp(event.at),
        "actor": {
            "kind": event.actor.kind.value,
            "id": _text(event.actor.id),
            "name": event.actor.name,
        },
        "action": event.action,
        "outcome": event.outcome.value,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "team_id": _text(event.team_id),
        "team_name": event.team_name,
        "details": dict(event.details),
        "source_ip": event.source_ip,
        "user_agent": event.user_agent,
    }


def audit_to_jsonl_line(event: AuditEvent) -> str:
    """Return one JSON Lines record, newline included, keys sorted."""
    return json.dumps(audit_to_dict(event), sort_keys=True, separators=(",", ":")) + "\n"


def audit_csv_header() -> list[str]:
    """Return the CSV header cells."""
    return list(AUDIT_CSV_COLUMNS)


def _cell(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def audit_to_csv_row(event: AuditEvent) -> list[str]:
    """Return one row's cells in :data:`AUDIT_CSV_COLUMNS` order; ``details`` is compact JSON.

    A cell that a spreadsheet would run as a formula gets a leading apostrophe.
    """
    values = (
        str(event.id),
        _timestamp(event.at),
        event.actor.kind.value,
        _text(event.actor.id),
        event.actor.name,
        event.action,
        event.outcome.value,
        event.target_type,
        event.target_id,
        _text(event.team_id),
        event.team_name,
        json.dumps(dict(event.details), sort_keys=True, separators=(",", ":")),
        event.source_ip,
        event.user_agent,
    )
    return [_cell(value) for value in values]


def csv_line(cells: Sequence[str]) -> str:
    """Return the cells as one RFC 4180 CSV line, quoted where needed, ending in CRLF."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()


async def audit_lines(events: AsyncIterator[AuditEvent], export_format: str) -> AsyncIterator[str]:
    """Yield the export's lines: ``jsonl`` one record a row, ``csv`` the header row first."""
    if export_format not in AUDIT_MEDIA_TYPES:
        raise ValueError(f"unknown audit export format {export_format!r}")
    if export_format == "csv":
        yield csv_line(audit_csv_header())
        async for event in events:
            yield csv_line(audit_to_csv_row(event))
    else:
        async for event in events:
            yield audit_to_jsonl_line(event)


async def audit_file(events: AsyncIterator[AuditEvent], export_format: str) -> AsyncIterator[bytes]:
    """Yield the export file as UTF-8 in chunks of about 64 KiB, not one message a row."""
    buffer = bytearray()
    async for line in audit_lines(events, export_format):
        buffer += line.encode()
        if len(buffer) >= _CHUNK_BYTES:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


def audit_file_name(moment: datetime, export_format: str) -> str:
    """Return the export's file name: the time of the export in UTC, and the format."""
    return f"gharts-audit-{moment.astimezone(UTC):%Y%m%dT%H%M%SZ}.{export_format}"
