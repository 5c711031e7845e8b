"""The event loop the long-running commands run on: uvloop where it is installed, else asyncio.

``gharts[server]`` brings uvloop (through uvicorn's ``standard`` extra) on the platforms it builds
for; uvicorn then also parses HTTP with httptools. Where either is missing everything runs on the
standard library's loop and parser, only slower.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_name() -> str:
    """Return ``"uvloop"`` when uvloop can be imported, else ``"asyncio"``."""
    try:
        importlib.import_module("uvloop")
    except ImportError:
        return "asyncio"
    return "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on a new event loop (uvloop's when available); return its result."""
    if loop_name() == "uvloop":
        import uvloop  # noqa: PLC0415 (optional: only where it is installed)

        return uvloop.run(main)
    return asyncio.run(main)
