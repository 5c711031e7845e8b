"""Exit codes and the usage error of the command line: importable without the server stack."""

from __future__ import annotations

import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED, EXIT_CHANGES = 0, 1, 2, 3, 4


class UsageError(Exception):
    """The command line is wrong; the message is one line."""


def print_error(code: str, detail: str) -> None:
    """Print the one line ``error: <CODE>: <detail>`` on stderr (whitespace folded)."""
    print(f"error: {code}: {' '.join(detail.split())}", file=sys.stderr)
