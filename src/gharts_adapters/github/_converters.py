"""GitHub JSON to domain values and back: the adapter's one cattrs converter."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import attrs
import cattrs

from gharts_core.model import ObservedRunner
from gharts_core.ports.github import JitConfig, JitRequest, RegistrationToken

T = TypeVar("T")


@attrs.frozen
class InstallationToken:
    """An installation access token and when GitHub retires it."""

    token: str = attrs.field(repr=False)
    expires_at: datetime


@attrs.frozen
class RunnerPage:
    """One page of ``GET .../actions/runners``."""

    total_count: int
    runners: tuple[ObservedRunner, ...]


class PayloadError(Exception):
    """GitHub answered with JSON this adapter cannot read."""


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    converter.register_structure_hook(datetime, lambda value, _: _timestamp(value))
    return converter


def _timestamp(value: object) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    parsed = datetime.fromisoformat(value)
    if parsed.utcoffset() is None:
        raise ValueError("timestamp without an offset")
    return parsed


CONVERTER = _make_converter()


def parse(body: Any, cls: type[T]) -> T:
    """Structure a GitHub JSON body into ``cls``, raising :class:`PayloadError` on a mismatch."""
    try:
        return CONVERTER.structure(body, cls)
    except (cattrs.BaseValidationError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PayloadError(f"unexpected {cls.__name__} payload") from exc


def jit_body(request: JitRequest) -> dict[str, Any]:
    """Return the ``generate-jitconfig`` request body."""
    body: dict[str, Any] = CONVERTER.unstructure(request)
    return body


__all__ = [
    "CONVERTER",
    "InstallationToken",
    "JitConfig",
    "PayloadError",
    "RegistrationToken",
    "RunnerPage",
    "jit_body",
    "parse",
]
