"""Applying ``PATCH`` commands: a field left :data:`~gharts_core.model.UNSET` keeps its value."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from gharts_core.model import UNSET, Unset

T = TypeVar("T")


def given(value: T | Unset, current: T) -> T:
    """Return the patched value, or ``current`` when the field was not given."""
    return current if value is UNSET else value


def tuple_patch(value: Iterable[T] | Unset) -> tuple[T, ...] | Unset:
    """Convert a given list-valued patch field to a tuple; leave :data:`UNSET` alone."""
    return value if value is UNSET else tuple(value)
