"""Query and path parameters several controllers share: paging, time ranges, ids."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from litestar.openapi.spec.enums import OpenAPIFormat
from litestar.params import PathParameter, QueryParameter

from gharts_core.errors import ValidationFailed
from gharts_core.ports.storage import MAX_PAGE_SIZE

Limit = Annotated[
    int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description=f"Page size (1-{MAX_PAGE_SIZE}).")
]
#: Offsets are 64-bit integers in the databases.
MAX_OFFSET = 2**63 - 1
Offset = Annotated[
    int, QueryParameter(ge=0, le=MAX_OFFSET, description="How many matches to skip.")
]
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
# Typed as text and parsed by time_range: the query parser would take "0" for the epoch.
Since = Annotated[
    str | None,
    QueryParameter(
        description="Inclusive lower bound, RFC 3339 with an offset (...Z).",
        format=OpenAPIFormat.DATE_TIME,
    ),
]
Until = Annotated[
    str | None,
    QueryParameter(
        description="Exclusive upper bound, RFC 3339 with an offset (...Z).",
        format=OpenAPIFormat.DATE_TIME,
    ),
]


def time_range(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """Parse the ``since`` and ``until`` query bounds, or raise ``ValidationFailed`` naming them.

    Only RFC 3339 timestamps with a UTC offset are bounds; numbers (``until=0``) are not.
    """
    errors: dict[str, str] = {}
    bounds = {
        name: _timestamp(name, value, errors)
        for name, value in (("since", since), ("until", until))
    }
    if errors:
        raise ValidationFailed(errors)
    return bounds["since"], bounds["until"]


def _timestamp(name: str, value: str | None, errors: dict[str, str]) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value) if _RFC3339.match(value) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.utcoffset() is None:
        errors[name] = "must be an RFC 3339 timestamp with an offset, e.g. 2026-01-01T00:00:00Z"
    return parsed


UserId = Annotated[uuid.UUID, PathParameter(description="The user's id.")]
