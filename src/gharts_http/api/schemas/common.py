"""Bodies several endpoint groups share."""

from __future__ import annotations

from typing import Any

import attrs

from gharts_core.model import Deactivation


@attrs.frozen(kw_only=True)
class ReasonBody:
    """Why an account, team or client is being deactivated or disabled."""

    reason: str


@attrs.frozen(kw_only=True)
class StatusBody:
    """A one-word outcome."""

    status: str


def deactivation_fields(deactivation: Deactivation | None) -> dict[str, Any]:
    """Return a response's ``deactivated_at``, ``deactivated_by`` and ``deactivation_reason``."""
    return {
        "deactivated_at": None if deactivation is None else deactivation.at,
        "deactivated_by": None if deactivation is None else deactivation.by,
        "deactivation_reason": None if deactivation is None else deactivation.reason,
    }
