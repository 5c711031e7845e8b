"""Options that may be left out: ``--flag``/``--no-flag`` switches and patch values.

An update command changes only what the operator typed, as a PATCH does: an option left out is
:data:`~gharts_core.model.UNSET` in the core's command.
"""

from __future__ import annotations

import argparse
from typing import TypeVar

from gharts_core.model import UNSET, Unset

__all__ = ["patch_of", "switch"]

T = TypeVar("T")


def switch(parser: argparse.ArgumentParser, flag: str, help: str) -> None:  # noqa: A002
    """Add ``--flag`` and ``--no-flag``; leaving both out gives ``None``."""
    parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help)


def patch_of(value: T | None) -> T | Unset:
    """Return a typed option's value, or ``UNSET`` when it was left out."""
    return UNSET if value is None else value
