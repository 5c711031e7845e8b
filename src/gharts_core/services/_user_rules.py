"""Pure rules for user changes: validating new users and applying patches."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import attrs

from gharts_core.errors import ValidationFailed
from gharts_core.model import UNSET, Capabilities, Deactivation, Unset, User
from gharts_core.services._checks import check_text
from gharts_core.services._patching import given

MAX_EMAIL_LENGTH = 254
MAX_DISPLAY_NAME_LENGTH = 200
DEFAULT_DEACTIVATION_REASON = "Deactivated by an administrator."
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")

EmailCheck = Callable[[str], str]
"""Return an email address as it is to be stored, or raise ``ValueError`` saying what is wrong.

The core's own check is a loose shape test; the service wires a real address validator in.
"""


def check_new_user(
    email: str, display_name: str, check_email: EmailCheck | None = None
) -> tuple[str, str]:
    """Return the lower-cased email and the stripped display name, or raise ``ValidationFailed``."""
    errors: dict[str, str] = {}
    if check_email is not None and email != email.strip():
        errors["email"] = "email must not start or end with white space."
    email = check_text(errors, "email", email, max_length=MAX_EMAIL_LENGTH)
    if "email" not in errors and not _EMAIL.fullmatch(email):
        errors["email"] = "email must look like name@domain."
    if "email" not in errors and check_email is not None:
        try:
            email = check_email(email)
        except ValueError as error:
            errors["email"] = f"email is not a valid address: {error}"
    display_name = check_text(
        errors, "display_name", display_name, max_length=MAX_DISPLAY_NAME_LENGTH
    )
    if errors:
        raise ValidationFailed(errors)
    return email.lower(), display_name


def check_display_name(display_name: str | Unset) -> str | Unset:
    """Return a given display name stripped, or raise ``ValidationFailed``; pass ``UNSET`` on."""
    if display_name is UNSET:
        return UNSET
    errors: dict[str, str] = {}
    cleaned = check_text(errors, "display_name", display_name, max_length=MAX_DISPLAY_NAME_LENGTH)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def activation(
    current: User, active: bool, *, reason: str | None, at: datetime, by: str
) -> Deactivation | None:
    """Return the user's deactivation after the change; an earlier one is kept as it was."""
    if active:
        return None
    if current.deactivation is not None:
        return current.deactivation
    return Deactivation(reason=reason or DEFAULT_DEACTIVATION_REASON, at=at, by=by)


def patched(
    current: User,
    *,
    display_name: str | Unset,
    is_admin: bool | Unset,
    is_active: bool | Unset,
    can_use_jit: bool | Unset,
    can_use_registration_token: bool | Unset,
    reason: str | None,
    at: datetime,
    by: str,
) -> User:
    """Return ``current`` with the given (already checked) fields; ``UNSET`` keeps a field."""
    caps = current.capabilities
    return attrs.evolve(
        current,
        display_name=given(display_name, current.display_name),
        is_admin=given(is_admin, current.is_admin),
        capabilities=Capabilities(
            given(can_use_jit, caps.can_use_jit),
            given(can_use_registration_token, caps.can_use_registration_token),
        ),
        deactivation=activation(
            current, given(is_active, current.is_active), reason=reason, at=at, by=by
        ),
    )
