"""Helpers for tests that run gharts as a process of its own: a free port, waits, a stop."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

#: The console script of the environment the tests run in.
GHARTS = Path(sys.executable).with_name("gharts")
T = TypeVar("T")


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def eventually(check: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """Call ``check`` until it returns something, for at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (result := check()) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what}")
        time.sleep(0.1)
    return result


def stop(process: subprocess.Popen[Any], *, timeout: float) -> None:
    """Ask ``process`` to end (SIGTERM); kill it if it has not within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
