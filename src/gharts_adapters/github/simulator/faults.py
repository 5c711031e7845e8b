"""Faults the simulator can inject: errors, latency, timeouts and rate limiting."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import attrs


def _status(_instance: object, _attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and not 400 <= value <= 599:
        raise ValueError("status must be an HTTP error status (400-599) or null")


def _non_negative(_instance: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and value < 0:
        raise ValueError(f"{attribute.name} must not be negative")


def _rate(_instance: object, _attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError("rate must be between 0.0 and 1.0")


@attrs.frozen
class Faults:
    """What goes wrong, for every GitHub API request until cleared (or for ``times`` of them).

    ``latency_ms`` delays every request before it has any effect; ``answer_latency_ms`` delays
    every answer after the request had its effect (GitHub created the runner, the caller has not
    heard yet: what a timeout or a crash mid-call leaves behind); answers held back go out at once
    when the faults are changed or cleared. With probability ``rate``
    (drawn from a generator seeded with ``seed``, so runs repeat) a request instead hangs
    (``timeout``), hits a secondary rate limit (``secondary_limit``, with ``retry_after``) or
    answers ``status``.
    ``rate_limit_remaining`` sets the primary budget left in the current window.
    """

    status: int | None = attrs.field(default=None, validator=_status)
    rate: float = attrs.field(default=1.0, validator=_rate)
    latency_ms: int = attrs.field(default=0, validator=_non_negative)
    answer_latency_ms: int = attrs.field(default=0, validator=_non_negative)
    rate_limit_remaining: int | None = attrs.field(default=None, validator=_non_negative)
    secondary_limit: bool = False
    retry_after: int = attrs.field(default=60, validator=_non_negative)
    timeout: bool = False
    times: int | None = attrs.field(default=None, validator=_non_negative)
    seed: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Faults:
        """Read the ``PUT /_simulator/faults`` body; raise ``ValueError``/``TypeError`` if wrong."""
        unknown = set(data) - {field.name for field in attrs.fields(cls)}
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        return cls(**{name: _checked(name, value) for name, value in data.items()})

    def to_json(self) -> dict[str, Any]:
        """Return the faults as the control API shows them."""
        return attrs.asdict(self)


def _checked(name: str, value: Any) -> Any:
    if name in {"secondary_limit", "timeout"}:
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be a boolean")
        return value
    if name == "rate":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("rate must be a number")
        return float(value)
    nullable = name in {"status", "rate_limit_remaining", "times"}
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer" + (" or null" if nullable else ""))
    return value


class FaultDraw:
    """Decides, request by request and reproducibly, whether the active faults strike."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._random = random.Random(faults.seed)  # noqa: S311 - reproducible draws, no secrets
        self._left = faults.times

    def strikes(self) -> bool:
        """Return whether this request fails (consuming one of ``times`` if it does)."""
        if self._left == 0:
            return False
        if self.faults.rate < 1.0 and self._random.random() >= self.faults.rate:
            return False
        if self._left is not None:
            self._left -= 1
        return True

    @property
    def exhausted(self) -> bool:
        """Whether a ``times``-limited fault has struck its last request."""
        return self._left == 0
