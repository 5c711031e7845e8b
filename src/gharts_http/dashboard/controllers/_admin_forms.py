"""What the list pages share: filter values from the query string, teams, paging links."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urlencode

import attrs
from attrs import AttrsInstance

from gharts_core.errors import ValidationFailed
from gharts_core.ports.storage import MAX_PAGE_SIZE, Page
from gharts_http.dashboard.context import Dashboard
from gharts_http.dashboard.sessions import Viewer

E = TypeVar("E", bound=enum.Enum)
PAGE_SIZE = 50
# Far enough for any real log; it keeps a hand-edited page number from becoming a huge OFFSET.
MAX_OFFSET = 10_000_000


def text(value: str | None) -> str | None:
    """Return the trimmed filter value, or ``None`` when it is empty."""
    value = (value or "").strip()
    return value or None


def flag(name: str, value: str | None) -> bool | None:
    """Read a yes/no filter (``""`` is either); anything else is ``VALIDATION_ERROR``."""
    choices = {"": None, "yes": True, "no": False}
    try:
        return choices[(value or "").strip()]
    except KeyError:
        raise ValidationFailed({name: "one of: yes, no (or empty for either)"}) from None


def choice(name: str, kind: type[E], value: str | None) -> E | None:
    """Read an enum filter by value; an unknown value is ``VALIDATION_ERROR``."""
    value = text(value)
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in kind)
        raise ValidationFailed({name: f"one of: {allowed}"}) from None


def moment(name: str, value: str | None) -> datetime | None:
    """Read a time filter: ISO 8601, as a ``datetime-local`` field sends it (taken as UTC)."""
    value = text(value)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed({name: "a date and time such as 2026-01-31T09:30 (UTC)"}) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def local_input(value: datetime | None) -> str:
    """Return ``value`` in UTC as a ``datetime-local`` field shows it (empty for ``None``)."""
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def form_values(query: AttrsInstance) -> dict[str, str]:
    """Return a query's filters, in field order, as its form shows them again.

    Text as it is, a choice by its value, a time as :func:`local_input`, and no filter empty.
    """

    def shown(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, enum.Enum):
            return str(value.value)
        if isinstance(value, datetime):
            return local_input(value)
        return str(value)

    return {name: shown(value) for name, value in attrs.asdict(query, recurse=False).items()}


async def team_names(dashboard: Dashboard, viewer: Viewer) -> list[str]:
    """Return the names of the teams the viewer may read, the team filter's choices."""
    found = await dashboard.services.team_views.list_teams(
        viewer.principal, Page(limit=MAX_PAGE_SIZE)
    )
    return [team.name for team in found.items]


def offset_of(page_number: int, size: int = PAGE_SIZE) -> tuple[int, int]:
    """Return the page number (at least 1) and its offset (bounded)."""
    number = max(1, page_number)
    return number, min((number - 1) * size, MAX_OFFSET)


def listing(
    path: str, filters: Mapping[str, str], number: int, total: int, size: int = PAGE_SIZE
) -> dict[str, object]:
    """Return what a filtered list at ``path`` shows besides its rows.

    That is the count (``total``), the ``filters`` as the form shows them, and the pager's
    ``pages``, ``page_number``, ``previous`` and ``next`` (links that keep the filters).
    """
    pages = max(1, -(-total // size))

    def link(to: int) -> str:
        return f"{path}?" + query_string(filters, page_number=str(to))

    return {
        "total": total,
        "filters": filters,
        "page_number": number,
        "pages": pages,
        "previous": link(number - 1) if number > 1 else None,
        "next": link(number + 1) if number < pages else None,
    }


def query_string(filters: Mapping[str, str], **extra: str) -> str:
    """Return the non-empty filters (and ``extra``) as a query string without the ``?``."""
    return urlencode({**{k: v for k, v in filters.items() if v}, **extra})
