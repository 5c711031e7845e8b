"""The ids in the dashboard's paths: a malformed one is the page of no such thing (404)."""

from __future__ import annotations

import uuid

from gharts_core.errors import NotFound


def path_id(value: str, not_found: type[NotFound]) -> uuid.UUID:
    """Return ``value`` as a UUID; one that is not is ``not_found(value)``, as an unknown id is."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise not_found(value) from None
