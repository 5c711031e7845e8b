"""The clock port: the only way the core learns the time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """A source of the current time."""

    def now(self) -> datetime:
        """Return the current time as a timezone-aware UTC datetime."""
        ...


class SystemClock:
    """The real clock: UTC wall time. Reading the time is the one effect the core may have."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)
