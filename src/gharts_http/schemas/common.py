"""Bodies several endpoint groups share."""

from __future__ import annotations

import attrs


@attrs.frozen(kw_only=True)
class ReasonBody:
    """Why an account, team or client is being deactivated or disabled."""

    reason: str


@attrs.frozen(kw_only=True)
class StatusBody:
    """A one-word outcome."""

    status: str
