"""Checks of the free text admin commands carry: reasons, descriptions, time ranges.

Each check returns the cleaned value or raises :class:`ValidationFailed` with one sentence per
offending field; :func:`check_text` records into a shared dict so that a command can report every
field at once.
"""

from __future__ import annotations

from datetime import datetime

from gharts_core.errors import ValidationFailed

MAX_REASON_LENGTH = 500
MAX_DESCRIPTION_LENGTH = 1000


def check_text(
    errors: dict[str, str], field: str, value: str, *, max_length: int, required: bool = True
) -> str:
    """Return ``value`` stripped, recording a sentence in ``errors`` when it is empty or long."""
    cleaned = value.strip()
    if required and not cleaned:
        errors[field] = f"{field} must not be empty."
    elif len(cleaned) > max_length:
        errors[field] = f"{field} must be at most {max_length} characters."
    return cleaned


def check_reason(reason: str) -> str:
    """Return a cleaned deactivation reason, or raise :class:`ValidationFailed`."""
    errors: dict[str, str] = {}
    cleaned = check_text(errors, "reason", reason, max_length=MAX_REASON_LENGTH)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def check_optional_reason(reason: str | None) -> str | None:
    """Return a cleaned optional reason (``None`` stays ``None``), or raise ``ValidationFailed``."""
    return None if reason is None else check_reason(reason)


def check_description(description: str) -> str:
    """Return the stripped description, or raise :class:`ValidationFailed` when too long."""
    errors: dict[str, str] = {}
    cleaned = check_text(
        errors, "description", description, max_length=MAX_DESCRIPTION_LENGTH, required=False
    )
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def check_time_range(since: datetime | None, until: datetime | None) -> None:
    """Raise :class:`ValidationFailed` for naive bounds or an empty range."""
    errors = {
        name: f"{name} must carry a UTC offset."
        for name, value in (("since", since), ("until", until))
        if value is not None and value.utcoffset() is None
    }
    if not errors and since is not None and until is not None and since >= until:
        errors["until"] = "until must be later than since."
    if errors:
        raise ValidationFailed(errors)
